-- grain: one row per behaviour incident recorded as antecedent, behaviour, consequence (ABC)
-- unique_key: [incident_key]
-- incremental:
--   by: occurred_on
-- not_null: [incident_key, pupil_key, school_urn, occurred_on, behaviour]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   activity: core.dim_activity.activity
--   setting: core.dim_setting.setting
--   time_slot: core.dim_time_slot.time_slot
select
    i.school_urn || ':' || i.incident_id as incident_key,
    i.incident_id,
    i.pupil_key,
    i.school_urn,
    i.occurred_on,
    i.occurred_minute,
    m.time_slot,
    m.period_code,
    c.academic_year,
    c.term,
    c.half_term,
    c.school_week,
    c.iso_weekday,
    c.is_school_day,
    nullif(i.staff_id, '') as staff_id,
    st.role as staff_role,
    nullif(i.activity, '') as activity,
    nullif(i.setting, '') as setting,
    nullif(i.antecedent, '') as antecedent,
    i.behaviour,
    nullif(i.consequence, '') as consequence,
    i.intensity,
    i.duration_minutes,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    i._batch_id as batch_id
from staging.stg_canonical_incidents as i
left join core.dim_school_minute as m
    on m.school_urn = i.school_urn and m.minute_of_day = i.occurred_minute
left join core.dim_school_calendar as c
    on c.school_urn = i.school_urn and c.date_day = i.occurred_on
left join core.dim_staff as st on st.school_urn = i.school_urn and st.staff_id = i.staff_id
where i._is_current
