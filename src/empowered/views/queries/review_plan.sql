-- grain: one row per plan of one pupil still running, the one to review first (an EHC plan, then the latest started)
select p.plan_id, p.school_urn, p.plan_type, p.start_date, p.review_due_on, p.last_held_review_on
from core.fct_plan as p
where p.pupil_key = $pupil_key
    and p.is_active
    and ($scope_schools is null or list_contains($scope_schools, p.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, p.pupil_key))
order by case when p.plan_type = 'ehc_plan' then 0 else 1 end, p.start_date desc, p.plan_id
