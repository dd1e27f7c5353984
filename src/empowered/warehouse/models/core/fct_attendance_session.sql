-- grain: one row per pupil per school per session (AM or PM) recorded in the register
-- unique_key: [pupil_key, school_urn, session_date, session]
-- materialized: view
-- incremental:
--   by: session_date
-- not_null: [pupil_key, school_urn, session_date, session, code, code_category]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   session: [AM, PM]
-- checks:
--   - name: marks_only_on_school_days
--     severity: warn
--     sql: >-
--       select a.* from core.fct_attendance_session as a
--       where a.is_school_day is distinct from true and a.is_possible
-- Stored as a view over staging's current rows, not a table: it only selects them and
-- looks up each day in the school calendar, and a table would write the 4.6 million
-- sessions again (docs/incremental-builds.md, "Models stored as views").
-- What each code counts as was decided in staging from the dated DfE code list in
-- reference (a change of regulations is a data edit there; a retired code keeps the
-- meaning it last had, with a warning).
select
    a.pupil_key,
    a.school_urn,
    a.session_date,
    a.session,
    a.code,
    a.code_category,
    a.is_possible,
    a.is_present,
    a.is_authorised_absence,
    a.is_unauthorised_absence,
    a._code_retired as is_retired_code,
    c.academic_year,
    c.term,
    c.half_term,
    c.school_week,
    c.is_school_day
from staging.stg_canonical_attendance as a
left join core.dim_school_calendar as c
    on c.school_urn = a.school_urn and c.date_day = a.session_date
where a._is_current
