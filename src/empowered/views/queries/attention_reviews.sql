-- grain: one row per pupil in scope whose current plan's review is overdue or due within $within_days days
select
    r.pupil_key, r.school_urn, r.as_of_date, r.current_plan_type, r.plan_next_review_due,
    r.review_overdue
from marts.register_pupil as r
where r.has_current_plan
    and r.plan_next_review_due is not null
    and r.plan_next_review_due <= coalesce(cast($as_of as date), r.as_of_date) + to_days(cast($within_days as integer))
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
order by r.plan_next_review_due, r.pupil_key
