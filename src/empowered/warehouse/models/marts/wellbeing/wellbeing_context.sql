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
-- The figures are added up from marts.wellbeing_context_quarter, which keeps each quarter
-- of the year's counts, sums and sums of squares: a school day's check-ins rework their
-- quarter there, and here only add the pupil's few quarters up. A standard deviation is
-- worked out from the sums (as stddev_samp: null below two values).
with quarters as (
    select
        pupil_key,
        school_urn,
        academic_year,
        context_dimension,
        context_value,
        cast(sum(observations) as bigint) as observations,
        cast(sum(mood_observations) as bigint) as mood_observations,
        sum(mood_sum) as mood_sum,
        sum(mood_sum_squares) as mood_sum_squares,
        cast(sum(regulation_observations) as bigint) as regulation_observations,
        sum(regulation_sum) as regulation_sum,
        sum(regulation_sum_squares) as regulation_sum_squares,
        cast(sum(days_compared) as bigint) as days_compared,
        sum(mood_day_difference_sum) as mood_day_difference_sum,
        sum(mood_day_difference_sum_squares) as mood_day_difference_sum_squares
    from marts.wellbeing_context_quarter
    group by pupil_key, school_urn, academic_year, context_dimension, context_value
),

-- Mean and sample standard deviation from a count, a sum and a sum of squares; the
-- variance is kept from going below zero by rounding when every value is the same.
figures as (
    select
        pupil_key,
        school_urn,
        academic_year,
        context_dimension,
        context_value,
        observations,
        mood_observations,
        mood_sum / cast(nullif(mood_observations, 0) as double) as mood_mean,
        case when mood_observations > 1 then sqrt(greatest(
            (mood_sum_squares - mood_sum * mood_sum / mood_observations)
            / (mood_observations - 1), 0.0
        )) end as mood_sd,
        regulation_observations,
        regulation_sum / cast(nullif(regulation_observations, 0) as double) as regulation_mean,
        case when regulation_observations > 1 then sqrt(greatest(
            (regulation_sum_squares - regulation_sum * regulation_sum / regulation_observations)
            / (regulation_observations - 1), 0.0
        )) end as regulation_sd,
        days_compared,
        mood_day_difference_sum / cast(nullif(days_compared, 0) as double)
            as mood_day_difference_mean,
        case when days_compared > 1 then sqrt(greatest(
            (
                mood_day_difference_sum_squares
                - mood_day_difference_sum * mood_day_difference_sum / days_compared
            ) / (days_compared - 1), 0.0
        )) end as mood_day_difference_sd
    from quarters
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
    y.observations as total_observations,
    y.mood_observations as total_mood_observations,
    y.mood_mean as total_mood_mean,
    y.mood_sd as total_mood_sd,
    y.regulation_observations as total_regulation_observations,
    y.regulation_mean as total_regulation_mean,
    y.regulation_sd as total_regulation_sd,
    c.days_compared,
    c.mood_day_difference_mean,
    c.mood_day_difference_sd
from figures as c
inner join figures as y
    on c.pupil_key = y.pupil_key
    and c.school_urn = y.school_urn
    and c.academic_year = y.academic_year
    and y.context_dimension = 'all'
where c.context_dimension <> 'all'
