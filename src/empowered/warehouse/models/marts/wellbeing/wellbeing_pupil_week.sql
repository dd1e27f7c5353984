-- grain: one row per pupil per school per academic year per school week with observations
-- unique_key: [pupil_key, school_urn, academic_year, school_week]
-- incremental:
--   by: pupil_key
--   since: school_week
--   lookback: 0
-- not_null: [pupil_key, school_urn, academic_year, school_week, week_start, days_observed,
--   observations, mood_observations, engagement_observations]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- checks:
--   - name: days_observed_fit_in_a_week
--     sql: >-
--       select * from marts.wellbeing_pupil_week
--       where days_observed < 1 or days_observed > 7 or days_observed > observations
-- Weekly figures smooth out single bad days for charts and early-sign rules (EWMA, CUSUM)
-- that want evenly spaced points. Means and sds are over every rating in the week (not
-- a mean of daily means), so a day with more check-ins weighs more, as it should for
-- "how was the week". Observations outside any school week (weekends, outside the
-- school's calendar) have no school_week and are left out here; the daily mart keeps them.
-- week_start is the first school day of the week at that school, whether or not the
-- pupil was observed on it, so weeks line up across pupils. days_observed counts the
-- pupil's rows in the daily mart, which is far cheaper than a distinct count over every
-- check-in.
with week_starts as (
    select
        school_urn,
        academic_year,
        school_week,
        min(date_day) as week_start
    from core.dim_school_calendar
    where is_school_day and school_week is not null
    group by school_urn, academic_year, school_week
),

days as (
    select pupil_key, school_urn, academic_year, school_week, count(*) as days_observed
    from marts.wellbeing_pupil_day
    where school_week is not null
    group by pupil_key, school_urn, academic_year, school_week
),

weeks as (
    select
        pupil_key,
        school_urn,
        academic_year,
        school_week,
        count(*) as observations,
        count(mood) as mood_observations,
        avg(cast(mood as double)) as mood_mean,
        stddev_samp(cast(mood as double)) as mood_sd,
        count(engagement) as engagement_observations,
        avg(cast(engagement as double)) as engagement_mean,
        stddev_samp(cast(engagement as double)) as engagement_sd,
        count(regulation) as regulation_observations,
        avg(cast(regulation as double)) as regulation_mean
    from core.fct_observation
    where school_week is not null
    group by pupil_key, school_urn, academic_year, school_week
)

select
    w.pupil_key,
    w.school_urn,
    w.academic_year,
    w.school_week,
    s.week_start,
    d.days_observed,
    w.observations,
    w.mood_observations,
    w.mood_mean,
    w.mood_sd,
    w.engagement_observations,
    w.engagement_mean,
    w.engagement_sd,
    w.regulation_observations,
    w.regulation_mean
from weeks as w
inner join week_starts as s
    on s.school_urn = w.school_urn
    and s.academic_year = w.academic_year
    and s.school_week = w.school_week
inner join days as d
    on d.pupil_key = w.pupil_key
    and d.school_urn = w.school_urn
    and d.academic_year = w.academic_year
    and d.school_week = w.school_week
