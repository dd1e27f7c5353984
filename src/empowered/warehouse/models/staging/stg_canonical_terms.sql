-- grain: one row per landed row of terms.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, start_date]
-- source: raw.canonical_terms
-- columns:
--   academic_year: trim
--   term: lower
--   half_term: integer
--   start_date: uk_date
--   end_date: uk_date
--   _overlapped_row: {sql: ov._overlapped_row, keep: false}
-- rules:
--   6: {pattern: academic_year, required: true, regex: '^[0-9]{4}/[0-9]{2}$', message: is not an academic year like 2025/26}
--   7: {allowed: term, values: [autumn, spring, summer], required: true}
--   8: {parse: half_term, min: 1, max: 6, required: true}
--   10: {required: start_date}
--   11: {required: end_date}
--   12: {after: end_date, than: start_date}
--   13: {check: _overlapped_row is not null, column: start_date, value: start_date_raw,
--        reason_sql: "'overlaps the term in row ' || cast(_overlapped_row as varchar) || ' of this file: a school day can be in one term only'"}
-- A term whose dates overlap a term earlier in the same file (the same term twice with
-- another start date, or a typing slip) would give the calendar two rows for one school
-- day: the later row is rejected, naming the earlier. Rows with the same start date are
-- the same term resent, left to rule 90.
left join (
    select a._batch_id, a._source_row, a._source_item, min(b._source_row) as _overlapped_row
    from parsed as a
    inner join parsed as b
        on b._batch_id = a._batch_id
        and b.school_urn = a.school_urn
        and b.start_date <> a.start_date
        and (b._source_row < a._source_row
            or (b._source_row = a._source_row and b._source_item < a._source_item))
        and b.start_date <= a.end_date
        and a.start_date <= b.end_date
        and b.start_date <= b.end_date
    group by a._batch_id, a._source_row, a._source_item
) as ov
    on ov._batch_id = p._batch_id and ov._source_row = p._source_row
    and ov._source_item = p._source_item
