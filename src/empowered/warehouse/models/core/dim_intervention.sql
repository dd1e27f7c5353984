-- grain: one row per intervention in the trust's provision catalogue
-- unique_key: [intervention_code]
-- not_null: [intervention_code, intervention_name, group_size]
-- Staff cost per pupil per session spreads the adult's time over the group.
-- owner_school_urn empty: the trust-wide catalogue; else one school's own entry. The cost
-- model (staff role x hours x hourly rate + resources) as planned: planned_hours is the
-- adult's time over sessions_per_week x weeks, when the catalogue says how often.
select
    intervention_code,
    intervention_name,
    area_of_need,
    target_need,
    measure,
    coalesce(group_size, 1) as group_size,
    minutes_per_session,
    hourly_staff_cost,
    materials_cost,
    training_cost,
    nullif(school_urn, '') as owner_school_urn,
    nullif(staff_role, '') as staff_role,
    sessions_per_week,
    weeks,
    cast(minutes_per_session as double) * sessions_per_week * weeks / 60 as planned_hours,
    hourly_staff_cost * cast(minutes_per_session as double) / 60 / coalesce(group_size, 1)
        as staff_cost_per_pupil_session
from staging.stg_canonical_interventions
where _is_current
