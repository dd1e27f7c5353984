-- grain: one row per pupil per school per academic year per timetable context (time slot, period or weekday) they were present in
-- unique_key: [pupil_key, school_urn, academic_year, context_dimension, context_value]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, academic_year, context_dimension, context_value,
--   exposure_minutes, present_minutes]
-- accepted_values:
--   context_dimension: [time_slot, period, weekday]
-- The exposure half of marts.behaviour_context_rate: minutes present in each timetable
-- context, from the register and the school's timetable, and present_minutes, the
-- pupil's minutes in school that year. It reads no incidents or check-ins, so a day of
-- observations leaves it alone; a day of the register rebuilds only these small rows for
-- the pupils marked present, not the incident and check-in counts.
-- How exposure is measured (time_slot, period, weekday): the minutes of every session the
-- pupil was marked present for that fall in the context, from the school's own timetable.
-- Only minutes in school hours count, each in its register session (core.dim_school_minute
-- says which minutes those are, and their session). Minutes per school, session and
-- context are counted first and then multiplied by each pupil's present sessions, so the
-- work grows with pupils x sessions, not pupils x minutes. Minutes in no period are the context
-- 'between_periods'. Rows are per academic year: sessions outside the school's calendar
-- (no academic year) are left out.
with school_minutes as (
    select
        school_urn,
        session,
        time_slot,
        coalesce(period_code, 'between_periods') as period_code
    from core.dim_school_minute
    where in_school_hours
),
session_minutes as (
    select school_urn, session, count(*) as minutes
    from school_minutes
    group by school_urn, session
),
session_context_minutes as (
    select
        school_urn,
        session,
        'time_slot' as context_dimension,
        cast(time_slot as varchar) as context_value,
        count(*) as minutes
    from school_minutes
    group by school_urn, session, time_slot
    union all
    select
        school_urn,
        session,
        'period' as context_dimension,
        period_code as context_value,
        count(*) as minutes
    from school_minutes
    group by school_urn, session, period_code
),
-- The sessions are read from staging's current rows, which is all core's sessions view
-- shows of them (core.fct_attendance_session, as marts.attendance_pupil_day reads them),
-- and only the present ones are looked up in the calendar: through the view, every
-- session was, a third of this model's time on a day's rebuild.
present_sessions as (
    select
        a.pupil_key,
        a.school_urn,
        c.academic_year,
        d.iso_weekday,
        a.session,
        count(*) as sessions
    from staging.stg_canonical_attendance as a
    inner join core.dim_school_calendar as c
        on c.school_urn = a.school_urn and c.date_day = a.session_date
    inner join core.dim_date as d on d.date_day = a.session_date
    where a._is_current and a.is_present and c.academic_year is not null
    group by a.pupil_key, a.school_urn, c.academic_year, d.iso_weekday, a.session
),
present_by_session as (
    select pupil_key, school_urn, academic_year, session, sum(sessions) as sessions
    from present_sessions
    group by pupil_key, school_urn, academic_year, session
),
present_minutes as (
    select p.pupil_key, p.school_urn, p.academic_year, sum(p.sessions * s.minutes) as minutes
    from present_by_session as p
    inner join session_minutes as s on s.school_urn = p.school_urn and s.session = p.session
    group by p.pupil_key, p.school_urn, p.academic_year
),
timetable_exposure as (
    select
        p.pupil_key,
        p.school_urn,
        p.academic_year,
        c.context_dimension,
        c.context_value,
        sum(p.sessions * c.minutes) as exposure_minutes
    from present_by_session as p
    inner join session_context_minutes as c
        on c.school_urn = p.school_urn and c.session = p.session
    group by p.pupil_key, p.school_urn, p.academic_year, c.context_dimension, c.context_value
    union all
    select
        p.pupil_key,
        p.school_urn,
        p.academic_year,
        'weekday' as context_dimension,
        cast(p.iso_weekday as varchar) as context_value,
        sum(p.sessions * s.minutes) as exposure_minutes
    from present_sessions as p
    inner join session_minutes as s on s.school_urn = p.school_urn and s.session = p.session
    group by p.pupil_key, p.school_urn, p.academic_year, p.iso_weekday
)

select
    e.pupil_key,
    e.school_urn,
    e.academic_year,
    e.context_dimension,
    e.context_value,
    cast(e.exposure_minutes as bigint) as exposure_minutes,
    cast(m.minutes as bigint) as present_minutes
from timetable_exposure as e
inner join present_minutes as m
    on m.pupil_key = e.pupil_key
    and m.school_urn = e.school_urn
    and m.academic_year = e.academic_year
