-- grain: one row per review meeting held in the app on a plan of $school (current row)
with plans as (
    select plan_id, pupil_key, plan_type
    from staging.stg_canonical_plans
    where _is_current and school_urn = $school
)

select
    m.meeting_id, m.plan_id, p.pupil_key, p.plan_type, m.held_on, m.held_by, m.attended,
    m.parents_met, m.pupil_views, m.parent_views, m.parent_discussion, m.changes,
    m.next_steps, m.next_review_due, m.recorded_at
from staging.stg_canonical_review_meetings as m
inner join plans as p on p.plan_id = m.plan_id
where m._is_current
    and m._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by m.held_on, m.meeting_id
