-- grain: one row per pupil per school per academic year per context (time slot, period, weekday, activity or setting) with incidents or check-ins
-- unique_key: [pupil_key, school_urn, academic_year, context_dimension, context_value]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, academic_year, context_dimension, context_value,
--   incidents, observations, total_incidents, total_observations]
-- accepted_values:
--   context_dimension: [time_slot, period, weekday, activity, setting]
-- The events half of marts.behaviour_context_rate: incidents and check-ins counted by
-- context, and the pupil's totals for the year. It reads no register, so a day of
-- attendance leaves it alone.
-- Incidents and check-ins at an unknown time, outside the school's hours (start of the
-- first period to the end of the last) or on a date outside its calendar have no
-- timetable context: they count in the totals but in no timetable row. A check-in or
-- incident with no activity (or setting) recorded counts as 'not_recorded', so those
-- rows add up to the totals exactly. Anything dated outside the school's calendar (no
-- academic year) is left out; core keeps it and warns.
-- Incidents and check-ins as one list of events, so each count below is written once.
with events as (
    select
        pupil_key, school_urn, academic_year, time_slot, period_code, iso_weekday,
        occurred_minute as event_minute, activity, setting,
        1 as incidents, 0 as observations
    from core.fct_behaviour_incident
    where academic_year is not null
    union all
    select
        pupil_key, school_urn, academic_year, time_slot, period_code, iso_weekday,
        observed_minute as event_minute, activity, setting,
        0 as incidents, 1 as observations
    from core.fct_observation
    where academic_year is not null
),
-- The events are first counted into two small cubes (timetable context, for those in
-- school hours, and activity x setting), each one hash aggregation over the facts; the
-- five dimensions are then summed from the cubes rather than from millions of fact rows.
timetable_cube as (
    select
        e.pupil_key,
        e.school_urn,
        e.academic_year,
        e.time_slot,
        coalesce(e.period_code, 'between_periods') as period_code,
        e.iso_weekday,
        sum(e.incidents) as incidents,
        sum(e.observations) as observations
    from events as e
    inner join core.dim_school_minute as m
        on m.school_urn = e.school_urn and m.minute_of_day = e.event_minute
    where m.in_school_hours and e.iso_weekday is not null
    group by
        e.pupil_key, e.school_urn, e.academic_year, e.time_slot, e.period_code, e.iso_weekday
),
activity_cube as (
    select
        pupil_key,
        school_urn,
        academic_year,
        coalesce(activity, 'not_recorded') as activity,
        coalesce(setting, 'not_recorded') as setting,
        sum(incidents) as incidents,
        sum(observations) as observations
    from events
    group by pupil_key, school_urn, academic_year, activity, setting
),
-- Each cube summed by each of its dimensions in one grouping-sets aggregation.
event_counts as (
    select
        pupil_key,
        school_urn,
        academic_year,
        case
            when grouping(time_slot) = 0 then 'time_slot'
            when grouping(period_code) = 0 then 'period'
            else 'weekday'
        end as context_dimension,
        coalesce(cast(time_slot as varchar), period_code, cast(iso_weekday as varchar))
            as context_value,
        sum(incidents) as incidents,
        sum(observations) as observations
    from timetable_cube
    group by grouping sets (
        (pupil_key, school_urn, academic_year, time_slot),
        (pupil_key, school_urn, academic_year, period_code),
        (pupil_key, school_urn, academic_year, iso_weekday)
    )
    union all
    select
        pupil_key,
        school_urn,
        academic_year,
        case when grouping(activity) = 0 then 'activity' else 'setting' end,
        coalesce(activity, setting),
        sum(incidents),
        sum(observations)
    from activity_cube
    group by grouping sets (
        (pupil_key, school_urn, academic_year, activity),
        (pupil_key, school_urn, academic_year, setting)
    )
),
pupil_totals as (
    select
        pupil_key,
        school_urn,
        academic_year,
        sum(incidents) as total_incidents,
        sum(observations) as total_observations
    from activity_cube
    group by pupil_key, school_urn, academic_year
)

select
    c.pupil_key,
    c.school_urn,
    c.academic_year,
    c.context_dimension,
    c.context_value,
    cast(c.incidents as bigint) as incidents,
    cast(c.observations as bigint) as observations,
    cast(t.total_incidents as bigint) as total_incidents,
    cast(t.total_observations as bigint) as total_observations
from event_counts as c
inner join pupil_totals as t
    on t.pupil_key = c.pupil_key
    and t.school_urn = c.school_urn
    and t.academic_year = c.academic_year
