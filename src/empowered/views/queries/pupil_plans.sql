-- grain: one row per support or EHC plan of one pupil
select
    p.plan_id, p.school_urn, p.plan_type, p.start_date, p.end_date, p.is_active,
    p.next_review_due, p.last_review_date, p.review_count, p.review_due_on, p.batch_id
from core.fct_plan as p
where p.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, p.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, p.pupil_key))
order by p.start_date desc, p.plan_id
