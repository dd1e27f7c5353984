-- grain: one row per review held of one pupil's plans: a meeting recorded (in the app or imported), or a day an imported review gave outcomes' progress with no meeting
select
    m.meeting_id, m.plan_id, m.plan_type, m.held_on, m.held_by, m.attended, m.parents_met,
    m.pupil_views, m.parent_views, m.parent_discussion, m.changes, m.next_steps,
    m.next_review_due
from core.fct_review_meeting as m
where m.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, m.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, m.pupil_key))
union all
select distinct
    cast(null as varchar), r.plan_id, p.plan_type, r.review_date, cast(null as varchar),
    cast(null as varchar), cast(null as boolean), cast(null as varchar), cast(null as varchar),
    cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as date)
from core.fct_plan_review as r
inner join core.fct_plan as p on p.plan_id = r.plan_id
where r.pupil_key = $pupil_key and r.meeting_id is null
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
order by 4 desc, 1 desc nulls last, 2
