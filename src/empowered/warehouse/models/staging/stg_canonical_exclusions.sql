-- grain: one row per landed row of exclusions.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, exclusion_id]
-- source: raw.canonical_exclusions
-- pupil_linked: true
-- columns:
--   exclusion_id: trim
--   start_date: uk_date
--   category: lower
--   sessions: decimal
--   reason_1: upper
--   reason_2: upper
--   reason_3: upper
--   _reason_1_known: {sql: "coalesce(x1.code is not null, false)"}
--   _reason_2_known: {sql: "coalesce(x2.code is not null, false)"}
--   _reason_3_known: {sql: "coalesce(x3.code is not null, false)"}
-- rules:
--   8: {required: start_date}
--   9: {allowed: category, values: [suspension, permanent], required: true}
--   11: {lookup: reason_1, message: is not a DfE suspension or exclusion reason code}
--   12: {lookup: reason_2, message: is not a DfE suspension or exclusion reason code}
--   13: {lookup: reason_3, message: is not a DfE suspension or exclusion reason code}
--   14: {not_blank: reason_1, message: "is missing: a suspension or exclusion needs at least one reason"}
--   15: {parse: sessions, min: 0}
--   19: {on_roll: start_date}
left join reference.exclusion_reason as x1 on x1.code = p.reason_1
left join reference.exclusion_reason as x2 on x2.code = p.reason_2
left join reference.exclusion_reason as x3 on x3.code = p.reason_3
