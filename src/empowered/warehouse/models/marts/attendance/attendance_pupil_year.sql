-- grain: one row per pupil per school per academic year with at least one possible session
-- unique_key: [pupil_key, school_urn, academic_year]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, academic_year, year_start, year_end, possible, present, authorised, unauthorised, absence_rate, attendance_rate, persistent_absence, severe_absence, is_latest_year]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- checks:
--   - name: severe_absence_is_also_persistent
--     sql: >-
--       select * from marts.attendance_pupil_year where severe_absence and not persistent_absence
--   - name: one_latest_year_per_pupil_and_school
--     sql: >-
--       select pupil_key, school_urn from marts.attendance_pupil_year
--       where is_latest_year group by pupil_key, school_urn having count(*) > 1
-- "As of": synthetic data ends with the last completed academic year and real data with
-- the last import, so "now" is each school's as_of_date: its latest attendance session
-- (its latest observation when it has no attendance). The latest year is the academic
-- year holding that date.
-- Falling attendance: the year is cut at the school's last school week up to its
-- as_of_date (the final week for a finished year). attendance_rate_first_half covers the
-- first half of those weeks, attendance_rate_last_6_weeks the last six, and
-- attendance_rate_before_last_6_weeks everything before them, so a recent fall shows as
-- the last six weeks against the rest of the year. Rates are null without possible
-- sessions in the span.
-- How far into each year "now" is comes from marts.school_year_as_of, which changes once
-- a week rather than with every day's as_of_date: a day's register rebuilds only the
-- pupils whose sessions changed. The date itself is marts.school_as_of's.
with school_years as (
    select school_urn, academic_year, year_start, year_end, last_week, is_latest_year
    from marts.school_year_as_of
),

pupil_years as (
    select
        w.pupil_key,
        w.school_urn,
        w.academic_year,
        sum(w.possible) as possible,
        sum(w.present) as present,
        sum(w.authorised) as authorised,
        sum(w.unauthorised) as unauthorised,
        sum(case when w.school_week * 2 <= y.last_week then w.possible else 0 end)
            as possible_first_half,
        sum(case when w.school_week * 2 <= y.last_week then w.present else 0 end)
            as present_first_half,
        sum(case when w.school_week > y.last_week - 6 then w.possible else 0 end)
            as possible_last_6_weeks,
        sum(case when w.school_week > y.last_week - 6 then w.present else 0 end)
            as present_last_6_weeks,
        sum(case when w.school_week <= y.last_week - 6 then w.possible else 0 end)
            as possible_before_last_6_weeks,
        sum(case when w.school_week <= y.last_week - 6 then w.present else 0 end)
            as present_before_last_6_weeks,
        min(w.week_start) as first_week_start,
        max(w.week_end) as last_week_end
    from marts.attendance_pupil_week as w
    left join school_years as y
        on y.school_urn = w.school_urn and y.academic_year = w.academic_year
    group by w.pupil_key, w.school_urn, w.academic_year
),

rates as (
    select
        p.*,
        cast(p.authorised + p.unauthorised as double) / cast(p.possible as double)
            as absence_rate
    from pupil_years as p
)

select
    r.pupil_key,
    r.school_urn,
    r.academic_year,
    coalesce(y.year_start, r.first_week_start) as year_start,
    coalesce(y.year_end, r.last_week_end) as year_end,
    r.possible,
    r.present,
    r.authorised,
    r.unauthorised,
    r.absence_rate,
    cast(r.present as double) / cast(r.possible as double) as attendance_rate,
    r.absence_rate >= 0.1 as persistent_absence,
    r.absence_rate >= 0.5 as severe_absence,
    cast(r.present_first_half as double) / cast(nullif(r.possible_first_half, 0) as double)
        as attendance_rate_first_half,
    cast(r.present_last_6_weeks as double)
        / cast(nullif(r.possible_last_6_weeks, 0) as double) as attendance_rate_last_6_weeks,
    cast(r.present_before_last_6_weeks as double)
        / cast(nullif(r.possible_before_last_6_weeks, 0) as double)
        as attendance_rate_before_last_6_weeks,
    r.possible_last_6_weeks,
    coalesce(y.is_latest_year, false) as is_latest_year
from rates as r
left join school_years as y
    on y.school_urn = r.school_urn and y.academic_year = r.academic_year
