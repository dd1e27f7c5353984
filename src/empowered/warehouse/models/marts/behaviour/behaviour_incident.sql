-- grain: one row per behaviour incident recorded as antecedent, behaviour, consequence (ABC)
-- unique_key: [incident_key]
-- incremental:
--   by: pupil_key
-- not_null: [incident_key, pupil_key, school_urn, occurred_on, behaviour]
-- relationships:
--   incident_key: core.fct_behaviour_incident.incident_key
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- The ABC record with its context spelled out (slot label, period name, weekday name,
-- activity and setting labels), so an ABC chart or a conditional-probability table needs
-- no further joins. Codes are kept beside labels: analytics group on codes, pages show
-- labels. Unknown activities and settings keep the school's own wording (see dim_activity).
select
    i.incident_key,
    i.pupil_key,
    i.school_urn,
    i.occurred_on,
    i.occurred_minute,
    i.time_slot,
    ts.label as time_slot_label,
    i.period_code,
    p.period_name,
    d.iso_weekday,
    d.weekday_name,
    i.academic_year,
    i.term,
    i.half_term,
    i.school_week,
    i.activity,
    a.label as activity_label,
    a.category as activity_category,
    i.setting,
    s.label as setting_label,
    s.category as setting_category,
    i.staff_role,
    i.antecedent,
    i.behaviour,
    i.consequence,
    i.intensity,
    i.duration_minutes,
    i.batch_id  -- where it came from (views.provenance)
from core.fct_behaviour_incident as i
left join core.dim_time_slot as ts on ts.time_slot = i.time_slot
left join core.dim_period as p on p.school_urn = i.school_urn and p.period_code = i.period_code
left join core.dim_date as d on d.date_day = i.occurred_on
left join core.dim_activity as a on a.activity = i.activity
left join core.dim_setting as s on s.setting = i.setting
