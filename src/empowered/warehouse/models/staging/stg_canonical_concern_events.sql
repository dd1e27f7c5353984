-- grain: one row per landed act on a safeguarding concern (acknowledged, shared), accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, event_id]
-- source: raw.canonical_concern_events
-- columns:
--   event_id: trim
--   concern_id: trim
--   event: lower
--   staff: trim
--   recorded_by: trim
--   recorded_at: trim
--   _concern_known: {sql: "coalesce(c.concern_id is not null, false)"}
-- rules:
--   10: {lookup: concern_id, required: true, known: _concern_known, message: "is not a concern recorded at this school"}
--   11: {allowed: event, required: true, values: [acknowledged, shared]}
--   12: {check: "event = 'shared' and (staff is null or staff = '')", column: staff, message: "is missing: a share names the member of staff it is shared with"}
--   13: {not_blank: recorded_by, message: "is missing: an act on a concern names who did it"}
-- Entered by the designated safeguarding lead on a concern's page (empowered.concerns). An
-- act on a concern that is not an accepted concern of the same school is quarantined, so a
-- share never crosses schools.
left join (
    select distinct school_urn, concern_id
    from staging.stg_canonical_concerns
    where _reject_reason is null
) as c
    on c.school_urn = p.school_urn and c.concern_id = p.concern_id
