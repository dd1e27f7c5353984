-- grain: one row per step of a current EHC plan's annual review not yet done that shows on the home page (from six weeks before it falls due), except the meeting itself (the plan reviews section says when it falls due)
select s.pupil_key, s.school_urn, s.plan_id, s.step, s.due_on, s.is_overdue, s.as_of_date, s.shows_from
from marts.ehc_review_step as s
where not s.is_done
    and s.step <> 'review_meeting'
    and s.shows_from <= coalesce(cast($as_of as date), s.as_of_date)
    and ($scope_schools is null or list_contains($scope_schools, s.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, s.pupil_key))
order by s.due_on, s.pupil_key, s.step_order
