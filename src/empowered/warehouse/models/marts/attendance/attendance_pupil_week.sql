-- grain: one row per pupil per school per academic year per school week with at least one possible session
-- unique_key: [pupil_key, school_urn, academic_year, school_week]
-- incremental:
--   by: pupil_key
--   since: school_week
--   lookback: 9
-- not_null: [pupil_key, school_urn, academic_year, school_week, week_start, week_end, possible, present, authorised, unauthorised, attendance_rate, unauthorised_rolling_10_weeks, possible_rolling_10_weeks]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   term: [autumn, spring, summer]
-- checks:
--   - name: possible_sessions_add_up
--     severity: warn
--     sql: >-
--       select * from marts.attendance_pupil_week
--       where present + authorised + unauthorised <> possible
--   - name: rolling_window_holds_at_least_this_week
--     sql: >-
--       select * from marts.attendance_pupil_week
--       where unauthorised_rolling_10_weeks < unauthorised
--       or possible_rolling_10_weeks < possible
-- Days are summed to pupil-weeks first and every rolling figure is a window over
-- weeks, not sessions: a year of a large trust is millions of sessions but only a few
-- hundred thousand pupil-weeks. Possible, present and the two kinds of absence follow the
-- DfE meaning decided in staging (code X and the other "not possible" codes count in none).
-- week_start and week_end are the school's first and last school day of that week (not
-- the pupil's), so a window reads "from 6 Jan to 14 Mar" whatever the pupil's marks.
-- Rolling windows stay inside one academic year and count school weeks, not rows: a RANGE
-- frame over school_week, which is unique within each pupil-school-year partition (so the
-- order is already deterministic), means a week with no possible sessions still uses up
-- its place in the window.
with school_weeks as (
    select
        school_urn,
        academic_year,
        school_week,
        min(date_day) as week_start,
        max(date_day) as week_end
    from core.dim_school_calendar
    where is_school_day and school_week is not null
    group by school_urn, academic_year, school_week
),

-- A week's term is the term of its first school day (terms start and end on week
-- boundaries in practice; this keeps one term per week if one does not).
week_terms as (
    select w.school_urn, w.academic_year, w.school_week, w.week_start, w.week_end, c.term
    from school_weeks as w
    inner join core.dim_school_calendar as c
        on c.school_urn = w.school_urn and c.date_day = w.week_start
),

-- Summed from the pupil's days, not their sessions: half as many rows to read, with the
-- same DfE meaning (a day counts only its possible sessions, and has at least one).
pupil_weeks as (
    select
        pupil_key,
        school_urn,
        academic_year,
        school_week,
        sum(possible) as possible,
        sum(present) as present,
        sum(authorised) as authorised,
        sum(unauthorised) as unauthorised
    from marts.attendance_pupil_day
    where school_week is not null
    group by pupil_key, school_urn, academic_year, school_week
)

select
    p.pupil_key,
    p.school_urn,
    p.academic_year,
    w.term,
    p.school_week,
    w.week_start,
    w.week_end,
    p.possible,
    p.present,
    p.authorised,
    p.unauthorised,
    cast(p.present as double) / cast(p.possible as double) as attendance_rate,
    sum(p.unauthorised) over (
        partition by p.pupil_key, p.school_urn, p.academic_year
        order by p.school_week range between 9 preceding and current row
    ) as unauthorised_rolling_10_weeks,
    sum(p.possible) over (
        partition by p.pupil_key, p.school_urn, p.academic_year
        order by p.school_week range between 9 preceding and current row
    ) as possible_rolling_10_weeks,
    cast(sum(p.present) over (
        partition by p.pupil_key, p.school_urn, p.academic_year
        order by p.school_week range between 3 preceding and current row
    ) as double) / cast(sum(p.possible) over (
        partition by p.pupil_key, p.school_urn, p.academic_year
        order by p.school_week range between 3 preceding and current row
    ) as double) as attendance_rate_rolling_4_weeks
from pupil_weeks as p
inner join week_terms as w
    on w.school_urn = p.school_urn and w.academic_year = p.academic_year
    and w.school_week = p.school_week
