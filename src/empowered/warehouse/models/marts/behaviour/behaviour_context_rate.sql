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
--
-- How exposure is measured:
-- * time_slot, period, weekday ('timetable'): the minutes of every session the pupil was
--   marked present for that fall in the context, from the school's own timetable. A
--   minute belongs to the AM session when it is before the end of lunch (period LUN;
--   noon if the timetable has none) and to PM otherwise; only minutes from the start of
--   the first period to the end of the last count. Minutes per school, session and
--   context are counted first and then multiplied by each pupil's present sessions, so
--   the work grows with pupils x sessions, not pupils x minutes. Minutes in no period are
--   the context 'between_periods'. Incidents and check-ins at an unknown time, outside
--   those hours or on a date outside the school's calendar have no timetable context:
--   they count in the totals but in no timetable row, so these rows can add up to fewer
--   incidents than total_incidents.
-- * activity, setting ('observation_share'): the warehouse does not know what a pupil
--   was doing minute by minute, so the pupil's present hours in the year are shared out
--   in proportion to the pupil's check-ins in each context. Staff check-ins are spread
--   through the day, so the share of check-ins is an unbiased estimate of the share of
--   time. With no check-ins that year there is nothing to share by and exposure is null.
--   A check-in or incident with no activity (or setting) recorded counts as
--   'not_recorded', so these rows add up to the totals exactly.
-- Rows are per academic year, so anything dated outside the school's calendar (no
-- academic year) is left out; core keeps it and warns.
-- rate_per_hour is null when exposure is zero or unknown: no rate can be worked out.
with school_hours as (
    select
        school_urn,
        min(start_minute) as first_minute,
        max(end_minute) as last_minute,
        coalesce(max(case when period_code = 'LUN' then end_minute end), 720) as lunch_end
    from core.dim_period
    group by school_urn
),

school_minutes as (
    select
        m.school_urn,
        case when m.minute_of_day < h.lunch_end then 'AM' else 'PM' end as session,
        m.time_slot,
        coalesce(m.period_code, 'between_periods') as period_code
    from core.dim_school_minute as m
    inner join school_hours as h
        on h.school_urn = m.school_urn
        and m.minute_of_day >= h.first_minute
        and m.minute_of_day < h.last_minute
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

present_sessions as (
    select
        a.pupil_key,
        a.school_urn,
        a.academic_year,
        d.iso_weekday,
        a.session,
        count(*) as sessions
    from core.fct_attendance_session as a
    inner join core.dim_date as d on d.date_day = a.session_date
    where a.is_present and a.academic_year is not null
    group by a.pupil_key, a.school_urn, a.academic_year, d.iso_weekday, a.session
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
),

-- Incidents and check-ins are first counted into two small cubes (timetable context and
-- activity x setting), each one hash aggregation over the facts; the five dimensions are
-- then summed from the cubes rather than from millions of fact rows.
timetable_cube as (
    select
        i.pupil_key,
        i.school_urn,
        i.academic_year,
        i.time_slot,
        coalesce(i.period_code, 'between_periods') as period_code,
        i.iso_weekday,
        count(*) as incidents,
        0 as observations
    from core.fct_behaviour_incident as i
    inner join school_hours as h
        on h.school_urn = i.school_urn
        and i.occurred_minute >= h.first_minute
        and i.occurred_minute < h.last_minute
    where i.academic_year is not null and i.iso_weekday is not null
    group by
        i.pupil_key, i.school_urn, i.academic_year, i.time_slot, i.period_code, i.iso_weekday
    union all
    select
        o.pupil_key,
        o.school_urn,
        o.academic_year,
        o.time_slot,
        coalesce(o.period_code, 'between_periods') as period_code,
        o.iso_weekday,
        0 as incidents,
        count(*) as observations
    from core.fct_observation as o
    inner join school_hours as h
        on h.school_urn = o.school_urn
        and o.observed_minute >= h.first_minute
        and o.observed_minute < h.last_minute
    where o.academic_year is not null and o.iso_weekday is not null
    group by
        o.pupil_key, o.school_urn, o.academic_year, o.time_slot, o.period_code, o.iso_weekday
),

activity_cube as (
    select
        pupil_key,
        school_urn,
        academic_year,
        coalesce(activity, 'not_recorded') as activity,
        coalesce(setting, 'not_recorded') as setting,
        count(*) as incidents,
        0 as observations
    from core.fct_behaviour_incident
    where academic_year is not null
    group by pupil_key, school_urn, academic_year, activity, setting
    union all
    select
        pupil_key,
        school_urn,
        academic_year,
        coalesce(activity, 'not_recorded') as activity,
        coalesce(setting, 'not_recorded') as setting,
        0 as incidents,
        count(*) as observations
    from core.fct_observation
    where academic_year is not null
    group by pupil_key, school_urn, academic_year, activity, setting
),

event_counts as (
    select
        pupil_key,
        school_urn,
        academic_year,
        'time_slot' as context_dimension,
        cast(time_slot as varchar) as context_value,
        sum(incidents) as incidents,
        sum(observations) as observations
    from timetable_cube
    group by pupil_key, school_urn, academic_year, time_slot
    union all
    select
        pupil_key,
        school_urn,
        academic_year,
        'period' as context_dimension,
        period_code as context_value,
        sum(incidents) as incidents,
        sum(observations) as observations
    from timetable_cube
    group by pupil_key, school_urn, academic_year, period_code
    union all
    select
        pupil_key,
        school_urn,
        academic_year,
        'weekday' as context_dimension,
        cast(iso_weekday as varchar) as context_value,
        sum(incidents) as incidents,
        sum(observations) as observations
    from timetable_cube
    group by pupil_key, school_urn, academic_year, iso_weekday
    union all
    select
        pupil_key,
        school_urn,
        academic_year,
        'activity' as context_dimension,
        activity as context_value,
        sum(incidents) as incidents,
        sum(observations) as observations
    from activity_cube
    group by pupil_key, school_urn, academic_year, activity
    union all
    select
        pupil_key,
        school_urn,
        academic_year,
        'setting' as context_dimension,
        setting as context_value,
        sum(incidents) as incidents,
        sum(observations) as observations
    from activity_cube
    group by pupil_key, school_urn, academic_year, setting
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
),

combined as (
    select
        pupil_key,
        school_urn,
        academic_year,
        context_dimension,
        context_value,
        incidents,
        observations,
        0 as exposure_minutes
    from event_counts
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
    from timetable_exposure
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
