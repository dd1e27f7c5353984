-- grain: one row per review of an outcome of one pupil's plans
select r.review_id, r.plan_id, r.outcome_id, r.review_date, r.progress, r.note, r.batch_id
from core.fct_plan_review as r
where r.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
order by r.review_date desc, r.review_id
