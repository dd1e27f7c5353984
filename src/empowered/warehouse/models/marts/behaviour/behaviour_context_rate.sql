-- grain: one row per pupil per school per academic year per context (time slot, period, weekday, activity or setting) they were in
-- unique_key: [pupil_key, school_urn, academic_year, context_dimension, context_value]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, academic_year, context_dimension, context_value,
--   incidents, observations, exposure_method, total_incidents, total_observations,
--   total_exposure_hours]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   context_dimension: [time_slot, period, weekday, activity, setting]
--   exposure_method: [timetable, observation_share]
-- checks:
--   - name: exposure_adds_up_to_time_in_school
--     sql: >-
--       select pupil_key, school_urn, academic_year, context_dimension
--       from marts.behaviour_context_rate
--       where exposure_hours is not null
--       group by pupil_key, school_urn, academic_year, context_dimension
--       having abs(sum(exposure_hours) - max(total_exposure_hours)) > 0.000001
--   - name: incidents_add_up_to_at_most_the_total
--     sql: >-
--       select pupil_key, school_urn, academic_year, context_dimension
--       from marts.behaviour_context_rate
--       group by pupil_key, school_urn, academic_year, context_dimension
--       having sum(incidents) > max(total_incidents)
--       or (max(exposure_method) = 'observation_share' and sum(incidents) <> max(total_incidents))
-- Incidents per hour in school, by context: the rate a scatterplot or a Poisson rate
-- ratio compares with the pupil's own overall rate (ANALYTICS.md section 2). A raw count
-- misleads (more incidents in maths may only mean more maths), so each context carries
-- its exposure, the hours the pupil was in school in it, and zero-incident contexts are
-- rows too.
-- Two halves are kept apart so a school day rebuilds little: the incidents and check-ins
-- by context (marts.behaviour_context_events) and the minutes present in each timetable
-- context (marts.behaviour_context_exposure, which says how time_slot, period and weekday
-- exposure is measured). Here they are put side by side, labelled and turned into rates.
-- * time_slot, period, weekday ('timetable'): exposure is the minutes present in the
--   context. Incidents and check-ins with no timetable context (unknown time, outside the
--   school's hours, a date outside its calendar) count in the totals but in no timetable
--   row, so these rows can add up to fewer incidents than total_incidents.
-- * activity, setting ('observation_share'): the warehouse does not know what a pupil
--   was doing minute by minute, so the pupil's present hours in the year are shared out
--   in proportion to the pupil's check-ins in each context. Staff check-ins are spread
--   through the day, so the share of check-ins is an unbiased estimate of the share of
--   time. With no check-ins that year there is nothing to share by and exposure is null.
-- rate_per_hour is null when exposure is zero or unknown: no rate can be worked out.
with combined as (
    select
        pupil_key,
        school_urn,
        academic_year,
        context_dimension,
        context_value,
        incidents,
        observations,
        0 as exposure_minutes
    from marts.behaviour_context_events
    union all
    select
        pupil_key,
        school_urn,
        academic_year,
        context_dimension,
        context_value,
        0 as incidents,
        0 as observations,
        exposure_minutes
    from marts.behaviour_context_exposure
),

contexts as (
    select
        pupil_key,
        school_urn,
        academic_year,
        context_dimension,
        context_value,
        sum(incidents) as incidents,
        sum(observations) as observations,
        sum(exposure_minutes) as exposure_minutes
    from combined
    group by pupil_key, school_urn, academic_year, context_dimension, context_value
),

pupil_totals as (
    select distinct pupil_key, school_urn, academic_year, total_incidents, total_observations
    from marts.behaviour_context_events
),

present_minutes as (
    select distinct pupil_key, school_urn, academic_year, present_minutes as minutes
    from marts.behaviour_context_exposure
),

weekdays as (
    select distinct iso_weekday, weekday_name from core.dim_date
),

measured as (
    select
        c.pupil_key,
        c.school_urn,
        c.academic_year,
        c.context_dimension,
        c.context_value,
        coalesce(
            ts.label,
            p.period_name,
            w.weekday_name,
            a.label,
            s.label,
            case c.context_value
                when 'between_periods' then 'Between periods'
                when 'not_recorded' then 'Not recorded'
            end
        ) as context_label,
        cast(c.incidents as bigint) as incidents,
        cast(c.observations as bigint) as observations,
        case
            when c.context_dimension not in ('activity', 'setting')
                then cast(c.exposure_minutes as double) / 60
            when coalesce(t.total_observations, 0) > 0
                then cast(coalesce(pm.minutes, 0) as double) * c.observations
                / t.total_observations / 60
        end as exposure_hours,
        case
            when c.context_dimension in ('activity', 'setting') then 'observation_share'
            else 'timetable'
        end as exposure_method,
        cast(coalesce(t.total_incidents, 0) as bigint) as total_incidents,
        cast(coalesce(t.total_observations, 0) as bigint) as total_observations,
        cast(coalesce(pm.minutes, 0) as double) / 60 as total_exposure_hours
    from contexts as c
    left join pupil_totals as t
        on t.pupil_key = c.pupil_key
        and t.school_urn = c.school_urn
        and t.academic_year = c.academic_year
    left join present_minutes as pm
        on pm.pupil_key = c.pupil_key
        and pm.school_urn = c.school_urn
        and pm.academic_year = c.academic_year
    left join core.dim_time_slot as ts
        on c.context_dimension = 'time_slot' and cast(ts.time_slot as varchar) = c.context_value
    left join core.dim_period as p
        on c.context_dimension = 'period'
        and p.school_urn = c.school_urn
        and p.period_code = c.context_value
    left join weekdays as w
        on c.context_dimension = 'weekday' and cast(w.iso_weekday as varchar) = c.context_value
    left join core.dim_activity as a
        on c.context_dimension = 'activity' and a.activity = c.context_value
    left join core.dim_setting as s
        on c.context_dimension = 'setting' and s.setting = c.context_value
)

select
    pupil_key,
    school_urn,
    academic_year,
    context_dimension,
    context_value,
    context_label,
    incidents,
    observations,
    exposure_hours,
    exposure_method,
    case when exposure_hours > 0 then cast(incidents as double) / exposure_hours end
        as rate_per_hour,
    total_incidents,
    total_observations,
    total_exposure_hours
from measured
