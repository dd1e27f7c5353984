-- grain: one row per landed row of staff_training.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, staff_id, area_of_need, course, completed_on]
-- source: raw.canonical_staff_training
-- columns:
--   staff_id: trim
--   area_of_need: upper
--   course: trim
--   completed_on: uk_date
--   _need_known: {sql: "coalesce(n.code is not null, false)"}
--   _staff_known: {sql: "coalesce(st.staff_id is not null, false)"}
-- rules:
--   6: {lookup: staff_id, known: _staff_known, required: true, message: is not a member of staff in staff.csv}
--   10: {lookup: area_of_need, known: _need_known, required: true, message: is not a DfE SEN type of need code}
--   11: {required: completed_on}
left join reference.sen_need as n on n.code = p.area_of_need and n.effective_to is null
left join (
    select distinct school_urn, staff_id from staging.stg_canonical_staff where _reject_reason is null
) as st on st.school_urn = p.school_urn and st.staff_id = p.staff_id
