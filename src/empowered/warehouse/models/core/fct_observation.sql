-- grain: one row per observation of one pupil at one moment (mood, engagement, regulation)
-- unique_key: [school_urn, observation_id]
-- incremental:
--   by: observed_on
-- not_null: [observation_id, pupil_key, school_urn, observed_on]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   activity: core.dim_activity.activity
--   setting: core.dim_setting.setting
--   time_slot: core.dim_time_slot.time_slot
-- checks:
--   - name: observed_on_a_school_day
--     severity: warn
--     sql: >-
--       select o.* from core.fct_observation as o
--       where o.is_school_day is distinct from true
-- Context (time slot, timetable period, term, school week, staff role) is attached here
-- once, so every mart and model reads the same context.
-- An observation is known by its school and its id (staging's natural key): no joined
-- key column is stored, as writing one for 1.3 million rows cost as much as the id.
select
    o.observation_id,
    o.pupil_key,
    o.school_urn,
    o.observed_on,
    o.observed_minute,
    m.time_slot,
    m.period_code,
    c.academic_year,
    c.term,
    c.half_term,
    c.school_week,
    c.iso_weekday,
    c.is_school_day,
    nullif(o.staff_id, '') as staff_id,
    st.role as staff_role,
    nullif(o.activity, '') as activity,
    nullif(o.setting, '') as setting,
    o.mood,
    o.engagement,
    o.regulation,
    nullif(o.note, '') as note,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    o._batch_id as batch_id
from staging.stg_canonical_observations as o
left join core.dim_school_minute as m
    on m.school_urn = o.school_urn and m.minute_of_day = o.observed_minute
left join core.dim_school_calendar as c
    on c.school_urn = o.school_urn and c.date_day = o.observed_on
left join core.dim_staff as st on st.school_urn = o.school_urn and st.staff_id = o.staff_id
where o._is_current
