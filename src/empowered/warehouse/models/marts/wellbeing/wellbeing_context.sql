-- grain: one row per pupil per school per academic year per context (time slot, lesson period, weekday, activity or setting) with check-ins
-- unique_key: [pupil_key, school_urn, academic_year, context_dimension, context_value]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, academic_year, context_dimension, context_value, observations, total_observations]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   context_dimension: [time_slot, period, weekday, activity, setting]
-- checks:
--   - name: context_within_the_year
--     sql: >-
--       select w.* from marts.wellbeing_context as w
--       where w.observations > w.total_observations
--       or w.mood_observations > w.total_mood_observations
-- Mood and regulation in each context beside the same child's whole year, so "harder
-- situations" can rest on how the child seemed there, not only on incidents: a quiet child
-- who is low every lunchtime has few incidents but a harder lunchtime. Context values are
-- written as in marts.behaviour_context_rate, so the two marts join on them.
-- Check-ins on the same day are alike (a good day is good all day), so comparing all
-- check-ins in a context with all the others overstates the evidence. The paired columns
-- compare within days instead: on each day with check-ins both in and out of the context,
-- the mood there minus the mood at the day's other check-ins; days_compared, the mean and
-- the spread of those daily differences are what the analytics test.
with obs as (
    select
        pupil_key,
        school_urn,
        academic_year,
        observed_on,
        time_slot,
        period_code,
        iso_weekday,
        activity,
        setting,
        cast(mood as double) as mood,
        cast(regulation as double) as regulation
    from core.fct_observation
    where academic_year is not null
),

-- Each context is counted by its own column (one grouping per context, on the native
-- column) rather than by a stacked (dimension, value) pair: five small groupings are
-- cheaper than one over five times the rows.
per_context as (
    select
        pupil_key,
        school_urn,
        academic_year,
        'time_slot' as context_dimension,
        cast(time_slot as varchar) as context_value,
        count(*) as observations,
        count(mood) as mood_observations,
        avg(mood) as mood_mean,
        stddev_samp(mood) as mood_sd,
        count(regulation) as regulation_observations,
        avg(regulation) as regulation_mean,
        stddev_samp(regulation) as regulation_sd
    from obs
    where time_slot is not null
    group by pupil_key, school_urn, academic_year, time_slot
    union all
    select pupil_key, school_urn, academic_year, 'period', period_code,
        count(*), count(mood), avg(mood), stddev_samp(mood),
        count(regulation), avg(regulation), stddev_samp(regulation)
    from obs
    where period_code is not null
    group by pupil_key, school_urn, academic_year, period_code
    union all
    select pupil_key, school_urn, academic_year, 'weekday', cast(iso_weekday as varchar),
        count(*), count(mood), avg(mood), stddev_samp(mood),
        count(regulation), avg(regulation), stddev_samp(regulation)
    from obs
    where iso_weekday is not null
    group by pupil_key, school_urn, academic_year, iso_weekday
    union all
    select pupil_key, school_urn, academic_year, 'activity', activity,
        count(*), count(mood), avg(mood), stddev_samp(mood),
        count(regulation), avg(regulation), stddev_samp(regulation)
    from obs
    where activity is not null
    group by pupil_key, school_urn, academic_year, activity
    union all
    select pupil_key, school_urn, academic_year, 'setting', setting,
        count(*), count(mood), avg(mood), stddev_samp(mood),
        count(regulation), avg(regulation), stddev_samp(regulation)
    from obs
    where setting is not null
    group by pupil_key, school_urn, academic_year, setting
),

-- Only days with at least two check-ins with a mood can set a context against the rest of
-- the day, and a day is all one weekday (so the weekday context never has "the day's other
-- check-ins"): the daily comparison reads only those days' check-ins and skips weekday, which
-- leaves its rows as they were and halves the rows grouped.
day_all as (
    select
        pupil_key, school_urn, academic_year, observed_on,
        count(mood) as n_all,
        sum(mood) as sum_all
    from obs
    group by pupil_key, school_urn, academic_year, observed_on
),

-- Each compared day gets a number, and each pupil's year another, so the day's contexts are
-- grouped on numbers rather than on four columns (nearly every group is one check-in: the
-- key's width is the cost), and pupil, school and year are joined back on the few rows
-- left at the end.
days as (
    select
        pupil_key, school_urn, academic_year, observed_on, n_all, sum_all,
        row_number() over (
            order by pupil_key, school_urn, academic_year, observed_on
        ) as day_id,
        dense_rank() over (order by pupil_key, school_urn, academic_year) as year_id
    from day_all
    where n_all >= 2
),

paired_obs as (
    select o.time_slot, o.period_code, o.activity, o.setting, o.mood, d.day_id
    from obs as o
    inner join days as d
        on o.pupil_key = d.pupil_key
        and o.school_urn = d.school_urn
        and o.academic_year = d.academic_year
        and o.observed_on = d.observed_on
),

-- Each context's check-ins per compared day, one grouping per context on the day's number
-- and the context's own column; the day's totals are joined back on its number.
day_context as (
    select d.year_id, c.context_dimension, c.context_value, d.n_all, d.sum_all, c.n_in, c.sum_in
    from (
        select day_id, 'time_slot' as context_dimension,
            cast(time_slot as varchar) as context_value,
            count(mood) as n_in, sum(mood) as sum_in
        from paired_obs where time_slot is not null
        group by day_id, time_slot
        union all
        select day_id, 'period', period_code, count(mood), sum(mood)
        from paired_obs where period_code is not null
        group by day_id, period_code
        union all
        select day_id, 'activity', activity, count(mood), sum(mood)
        from paired_obs where activity is not null
        group by day_id, activity
        union all
        select day_id, 'setting', setting, count(mood), sum(mood)
        from paired_obs where setting is not null
        group by day_id, setting
    ) as c
    inner join days as d on d.day_id = c.day_id
),

paired as (
    select
        y.pupil_key,
        y.school_urn,
        y.academic_year,
        p.context_dimension,
        p.context_value,
        p.days_compared,
        p.mood_day_difference_mean,
        p.mood_day_difference_sd
    from (
        select
            year_id,
            context_dimension,
            context_value,
            count(*) as days_compared,
            avg(
                sum_in / cast(n_in as double)
                - (sum_all - sum_in) / cast(n_all - n_in as double)
            ) as mood_day_difference_mean,
            stddev_samp(
                sum_in / cast(n_in as double)
                - (sum_all - sum_in) / cast(n_all - n_in as double)
            ) as mood_day_difference_sd
        from day_context
        where n_in > 0 and n_all > n_in
        group by year_id, context_dimension, context_value
    ) as p
    inner join (
        select distinct year_id, pupil_key, school_urn, academic_year from days
    ) as y on y.year_id = p.year_id
),

per_year as (
    select
        pupil_key,
        school_urn,
        academic_year,
        count(*) as total_observations,
        count(mood) as total_mood_observations,
        avg(mood) as total_mood_mean,
        stddev_samp(mood) as total_mood_sd,
        count(regulation) as total_regulation_observations,
        avg(regulation) as total_regulation_mean,
        stddev_samp(regulation) as total_regulation_sd
    from obs
    group by pupil_key, school_urn, academic_year
)

select
    c.pupil_key,
    c.school_urn,
    c.academic_year,
    c.context_dimension,
    c.context_value,
    c.observations,
    c.mood_observations,
    c.mood_mean,
    c.mood_sd,
    c.regulation_observations,
    c.regulation_mean,
    c.regulation_sd,
    y.total_observations,
    y.total_mood_observations,
    y.total_mood_mean,
    y.total_mood_sd,
    y.total_regulation_observations,
    y.total_regulation_mean,
    y.total_regulation_sd,
    coalesce(p.days_compared, 0) as days_compared,
    p.mood_day_difference_mean,
    p.mood_day_difference_sd
from per_context as c
inner join per_year as y
    on c.pupil_key = y.pupil_key
    and c.school_urn = y.school_urn
    and c.academic_year = y.academic_year
left join paired as p
    on c.pupil_key = p.pupil_key
    and c.school_urn = p.school_urn
    and c.academic_year = p.academic_year
    and c.context_dimension = p.context_dimension
    and c.context_value = p.context_value
