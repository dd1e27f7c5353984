-- grain: one row per staff role
-- unique_key: [role]
-- not_null: [role, label]
select role, label, is_safeguarding_lead, works_directly_with_pupils
from (
    values
        ('teacher', 'Teacher', false, true),
        ('teaching_assistant', 'Teaching assistant', false, true),
        ('senco', 'Special educational needs co-ordinator (SENCo)', false, true),
        ('dsl', 'Designated safeguarding lead', true, true),
        ('therapist', 'Therapist', false, true),
        ('pastoral', 'Pastoral lead', false, true),
        ('leader', 'School leader', false, false)
) as roles (role, label, is_safeguarding_lead, works_directly_with_pupils)
