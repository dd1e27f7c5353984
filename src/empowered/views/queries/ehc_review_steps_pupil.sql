-- grain: one row per step of the annual review of one pupil's current EHC plans
select s.plan_id, s.step, s.step_order, s.due_on, s.done_on, s.is_done, s.is_overdue
from marts.ehc_review_step as s
where s.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, s.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, s.pupil_key))
order by s.plan_id, s.step_order
