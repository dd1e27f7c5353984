-- grain: one row per outcome in one pupil's plans as they stand (not one taken out of a plan)
select
    o.outcome_id, o.plan_id, o.area_of_need, o.outcome_text, o.target_date,
    o.latest_progress, o.latest_review_date
from core.fct_plan_outcome as o
where o.pupil_key = $pupil_key
    and o.in_plan
    and ($scope_schools is null or list_contains($scope_schools, o.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, o.pupil_key))
order by o.plan_id, o.outcome_id
