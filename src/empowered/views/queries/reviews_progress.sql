-- grain: one row per outcome's progress at a review of one pupil's plans
select
    r.review_id, r.plan_id, r.meeting_id, r.review_date, r.outcome_id, r.progress, r.rating,
    r.note, o.area_of_need, o.outcome_text
from core.fct_plan_review as r
left join core.fct_plan_outcome as o on o.outcome_id = r.outcome_id
where r.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
order by r.review_date desc, r.outcome_id, r.review_id
