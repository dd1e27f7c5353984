-- grain: one row per landed row of attendance.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, pupil_key, session_date, session]
-- source: raw.canonical_attendance
-- pupil_linked: true
-- columns:
--   session_date: {uk_date: date}
--   session: upper
--   code_raw: {text: code, keep: false}
--   _code: {upper: code, keep: false}
--   code: {sql: "coalesce(ac.code, old.code)"}
--   code_category: {sql: "coalesce(ac.category, old.category)"}
--   is_possible: {sql: "coalesce(ac.counts_as_possible, old.counts_as_possible)"}
--   is_present: {sql: "coalesce(ac.counts_as_present, old.counts_as_present)"}
--   is_authorised_absence: {sql: "coalesce(ac.counts_as_authorised, old.counts_as_authorised)"}
--   is_unauthorised_absence: {sql: "coalesce(ac.counts_as_unauthorised, old.counts_as_unauthorised)"}
--   _code_retired: {sql: "ac.code is null and old.code is not null"}
--   _code_retired_on: {sql: "old.effective_to", keep: false}
--   _in_school_year: {sql: td.date_day is not null, keep: false}
-- rules:
--   10: {required: session_date}
--   11: {not_future: session_date}
--   12: {allowed: session, values: [AM, PM], required: true}
--   13: {check: code is null, column: code, value: code_raw,
--        message: is not a DfE attendance register code in force on that date}
--   19: {on_roll: session_date}
--   20: {check: not _in_school_year,
--        column: session_date,
--        message: "is outside the school's term dates (its terms.csv, else England's standard term dates): add the term, and the marks are read again at the next import"}
--   100: {check: _code_retired, column: code, value: code_raw,
--         reason_sql: "'was retired on ' || cast(_code_retired_on as varchar) || '; counted as ' || replace(code_category, '_', ' ')"}
-- The day, if it is inside one of the school calendar's academic years (its own terms,
-- else the standard ones); one row per day, so this adds no row.
left join staging.stg_canonical_term_days as td
    on td.school_urn = p.school_urn and td.date_day = p.session_date
-- The codes in force on the session's date.
left join reference.attendance_code as ac
    on ac.code = p._code
    and p.session_date between ac.effective_from and coalesce(ac.effective_to, date '9999-12-31')
-- A code retired before the session's date (an old MIS still offering it) is read
-- with the meaning it last had, and the row carries a warning.
left join (
    select *, row_number() over (partition by code order by effective_to desc) as n
    from reference.attendance_code where effective_to is not null
) as old
    on old.code = p._code and old.n = 1 and ac.code is null and p.session_date > old.effective_to
