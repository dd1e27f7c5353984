-- grain: one row per pupil per school per academic year per quarter of the year's school weeks per context (time slot, lesson period, weekday, activity or setting; 'all' for every check-in) with check-ins
-- unique_key: [pupil_key, school_urn, academic_year, school_week, context_dimension, context_value]
-- incremental:
--   by: pupil_key
--   since: school_week
--   block: 13
-- not_null: [pupil_key, school_urn, academic_year, context_dimension, context_value, observations, mood_observations, regulation_observations, days_compared]
-- accepted_values:
--   context_dimension: [all, time_slot, period, weekday, activity, setting]
-- The sums behind marts.wellbeing_context, a quarter of the year at a time, so a school
-- day's check-ins rework the quarter they fall in, not the child's whole year: that mart
-- adds up these rows. A quarter is 13 school weeks (weeks 1-13, 14-26, 27-39, then 40 on),
-- and school_week is its last week (13, 26, 39, 52): a day in week w rewrites the rows
-- from w on, reading check-ins from the start of w's quarter (the block of 13 declared
-- above). Check-ins outside the school's weeks (no school_week) are a quarter of their own.
-- Each context keeps counts, sums and sums of squares, from which means and standard
-- deviations over any number of quarters follow; the 'all' row is every check-in (the
-- year's totals). The daily comparison is as described in marts.wellbeing_context: on
-- each day with check-ins both in and out of a context, the mood there minus the mood at
-- the day's other check-ins; days_compared and the sum and sum of squares of those
-- differences are kept. A day lies in one week, so in one quarter.
with obs as (
    select
        pupil_key,
        school_urn,
        academic_year,
        (cast(floor((school_week - 1) / 13) as bigint) + 1) * 13 as school_week,
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

-- One grouping per context on its own column (five small groupings are cheaper than one
-- over a stacked pair), and one over every check-in for the totals.
per_context as (
    select
        pupil_key,
        school_urn,
        academic_year,
        school_week,
        'all' as context_dimension,
        'all' as context_value,
        count(*) as observations,
        count(mood) as mood_observations,
        sum(mood) as mood_sum,
        sum(mood * mood) as mood_sum_squares,
        count(regulation) as regulation_observations,
        sum(regulation) as regulation_sum,
        sum(regulation * regulation) as regulation_sum_squares
    from obs
    group by pupil_key, school_urn, academic_year, school_week
    union all
    select pupil_key, school_urn, academic_year, school_week, 'time_slot',
        cast(time_slot as varchar),
        count(*), count(mood), sum(mood), sum(mood * mood),
        count(regulation), sum(regulation), sum(regulation * regulation)
    from obs
    where time_slot is not null
    group by pupil_key, school_urn, academic_year, school_week, time_slot
    union all
    select pupil_key, school_urn, academic_year, school_week, 'period', period_code,
        count(*), count(mood), sum(mood), sum(mood * mood),
        count(regulation), sum(regulation), sum(regulation * regulation)
    from obs
    where period_code is not null
    group by pupil_key, school_urn, academic_year, school_week, period_code
    union all
    select pupil_key, school_urn, academic_year, school_week, 'weekday',
        cast(iso_weekday as varchar),
        count(*), count(mood), sum(mood), sum(mood * mood),
        count(regulation), sum(regulation), sum(regulation * regulation)
    from obs
    where iso_weekday is not null
    group by pupil_key, school_urn, academic_year, school_week, iso_weekday
    union all
    select pupil_key, school_urn, academic_year, school_week, 'activity', activity,
        count(*), count(mood), sum(mood), sum(mood * mood),
        count(regulation), sum(regulation), sum(regulation * regulation)
    from obs
    where activity is not null
    group by pupil_key, school_urn, academic_year, school_week, activity
    union all
    select pupil_key, school_urn, academic_year, school_week, 'setting', setting,
        count(*), count(mood), sum(mood), sum(mood * mood),
        count(regulation), sum(regulation), sum(regulation * regulation)
    from obs
    where setting is not null
    group by pupil_key, school_urn, academic_year, school_week, setting
),

-- Only days with at least two check-ins with a mood can set a context against the rest of
-- the day, and a day is all one weekday, so the weekday context is never compared.
day_all as (
    select
        pupil_key, school_urn, academic_year, school_week, observed_on,
        count(mood) as n_all,
        sum(mood) as sum_all
    from obs
    group by pupil_key, school_urn, academic_year, school_week, observed_on
),

-- Each compared day gets a number, and each pupil's quarter another, so the day's contexts
-- are grouped on numbers rather than on five columns (nearly every group is one check-in:
-- the key's width is the cost), and pupil, school, year and quarter are joined back on the
-- few rows left at the end.
days as (
    select
        pupil_key, school_urn, academic_year, school_week, observed_on, n_all, sum_all,
        row_number() over (
            order by pupil_key, school_urn, academic_year, observed_on
        ) as day_id,
        dense_rank() over (
            order by pupil_key, school_urn, academic_year, school_week
        ) as quarter_id
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
    select d.quarter_id, c.context_dimension, c.context_value, d.n_all, d.sum_all, c.n_in, c.sum_in
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
        q.pupil_key,
        q.school_urn,
        q.academic_year,
        q.school_week,
        p.context_dimension,
        p.context_value,
        p.days_compared,
        p.mood_day_difference_sum,
        p.mood_day_difference_sum_squares
    from (
        select
            quarter_id,
            context_dimension,
            context_value,
            count(*) as days_compared,
            sum(difference) as mood_day_difference_sum,
            sum(difference * difference) as mood_day_difference_sum_squares
        from (
            select
                quarter_id,
                context_dimension,
                context_value,
                sum_in / cast(n_in as double)
                - (sum_all - sum_in) / cast(n_all - n_in as double) as difference
            from day_context
            where n_in > 0 and n_all > n_in
        ) as d
        group by quarter_id, context_dimension, context_value
    ) as p
    inner join (
        select distinct quarter_id, pupil_key, school_urn, academic_year, school_week from days
    ) as q on q.quarter_id = p.quarter_id
)

select
    c.pupil_key,
    c.school_urn,
    c.academic_year,
    c.school_week,
    c.context_dimension,
    c.context_value,
    c.observations,
    c.mood_observations,
    c.mood_sum,
    c.mood_sum_squares,
    c.regulation_observations,
    c.regulation_sum,
    c.regulation_sum_squares,
    coalesce(p.days_compared, 0) as days_compared,
    p.mood_day_difference_sum,
    p.mood_day_difference_sum_squares
from per_context as c
left join paired as p
    on c.pupil_key = p.pupil_key
    and c.school_urn = p.school_urn
    and c.academic_year = p.academic_year
    and c.school_week is not distinct from p.school_week
    and c.context_dimension = p.context_dimension
    and c.context_value = p.context_value
