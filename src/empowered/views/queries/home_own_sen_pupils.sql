-- grain: one row per pupil of a named list in scope (a teacher's group, an assistant's pupils) on the SEN register: what their home page says about their plan
select
    r.pupil_key, r.school_urn, r.as_of_date, r.sen_provision, r.has_current_plan,
    r.plan_next_review_due, r.on_register_since
from marts.register_pupil as r
where r.sen_provision in ('E', 'K')
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
order by r.pupil_key
