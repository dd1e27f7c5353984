-- grain: one row per act of the designated safeguarding lead on a concern (acknowledged, shared)
-- unique_key: [event_key]
-- not_null: [event_key, concern_key, school_urn, event, recorded_by, batch_id]
-- relationships:
--   concern_key: core.fct_concern.concern_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   event: [acknowledged, shared]
select
    e.school_urn || ':' || e.event_id as event_key,
    e.school_urn || ':' || e.concern_id as concern_key,
    e.school_urn,
    e.event,
    nullif(e.staff, '') as staff,
    e.recorded_by,
    e.recorded_at,
    e._batch_id as batch_id
from staging.stg_canonical_concern_events as e
inner join core.fct_concern as c
    on c.concern_key = e.school_urn || ':' || e.concern_id
where e._is_current
