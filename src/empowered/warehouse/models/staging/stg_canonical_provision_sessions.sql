-- grain: one row per landed row of provision_sessions.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [enrolment_id, session_date]
-- source: raw.canonical_provision_sessions
-- school_checked: false
-- columns:
--   enrolment_id: trim
--   session_date: uk_date
--   delivered: boolean
--   minutes: integer
--   _enrolment_known: {sql: "coalesce(en.enrolment_id is not null, false)"}
-- rules:
--   1: {lookup: enrolment_id, known: _enrolment_known, required: true,
--       message: is not an enrolment in provision_enrolments.csv}
--   10: {required: session_date}
--   11: {parse: delivered}
--   12: {check: delivered is null, column: delivered,
--        message: "is missing: was the session delivered (Y or N)?"}
--   13: {parse: minutes, min: 0}
left join (
    select distinct enrolment_id from staging.stg_canonical_provision_enrolments where _reject_reason is null
) as en on en.enrolment_id = p.enrolment_id
