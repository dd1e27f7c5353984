-- grain: one row per pupil per school per school day with at least one possible session
-- unique_key: [pupil_key, school_urn, session_date]
-- incremental:
--   by: session_date
-- not_null: [pupil_key, school_urn, session_date, academic_year, possible, present, absent, unauthorised]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- checks:
--   - name: absences_within_possible_sessions
--     sql: >-
--       select d.* from marts.attendance_pupil_day as d
--       where d.absent + d.present <> d.possible or d.unauthorised > d.absent
-- The day is the unit the early-sign attendance chart steps through: two sessions at most,
-- so a morning missed reads as half a day, as staff see it in the register.
-- Sessions are summed by pupil, school and date alone and the day's year, term and week
-- looked up after: grouping 4.5 million sessions by the calendar's strings as well made
-- DuckDB group twice over (once below its join to the calendar, once above).
-- The sessions are read from staging's current rows, which is all core's sessions view
-- shows of them (core.fct_attendance_session): through the view, every session would be
-- looked up in the calendar before being summed, 15% of this model's time.
with days as (
    select
        a.pupil_key,
        a.school_urn,
        a.session_date,
        sum(case when a.is_possible then 1 else 0 end) as possible,
        sum(case when a.is_possible and a.is_present then 1 else 0 end) as present,
        sum(case when a.is_possible and not a.is_present then 1 else 0 end) as absent,
        sum(case when a.is_possible and a.is_authorised_absence then 1 else 0 end)
            as authorised,
        sum(case when a.is_possible and a.is_unauthorised_absence then 1 else 0 end)
            as unauthorised
    from staging.stg_canonical_attendance as a
    where a._is_current
    group by a.pupil_key, a.school_urn, a.session_date
    having sum(case when a.is_possible then 1 else 0 end) > 0
)

select
    d.pupil_key,
    d.school_urn,
    d.session_date,
    c.academic_year,
    c.term,
    c.school_week,
    d.possible,
    d.present,
    d.absent,
    d.authorised,
    d.unauthorised
from days as d
left join core.dim_school_calendar as c
    on c.school_urn = d.school_urn and c.date_day = d.session_date
-- Stored in pupil order so one pupil's days sit in a few row groups: the pupil page reads
-- them in about 20 ms instead of scanning every school's 2 million rows (200 ms).
order by d.school_urn, d.pupil_key, d.session_date
