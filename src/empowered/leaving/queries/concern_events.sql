-- grain: one row per act on a concern (acknowledged, shared) recorded in the app at
--   $school (current row)
with concerns as (
    select concern_id, pupil_key
    from staging.stg_canonical_concerns
    where _is_current and school_urn = $school
)

select
    e.event_id, e.concern_id, c.pupil_key, e.event, e.staff as shared_with, e.recorded_by,
    e.recorded_at
from staging.stg_canonical_concern_events as e
inner join concerns as c on c.concern_id = e.concern_id
where e._is_current
    and e._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by e.recorded_at, e.event_id
