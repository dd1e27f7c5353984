-- grain: one row per intervention group kept in the app (its current version)
-- unique_key: [group_id]
-- not_null: [group_id, school_urn, intervention_code, group_name, start_date]
-- relationships:
--   school_urn: core.dim_school.school_urn
--   intervention_code: core.dim_intervention.intervention_code
-- A group runs one intervention at one school in a weekly slot (day, start and end as
-- minutes after midnight), delivered by the staff accounts in staff_ids (app-user
-- references, space-separated: the app turns them back into accounts). Its members are
-- the enrolments naming it (core.fct_provision_enrolment.group_id).
select
    g.group_id,
    g.school_urn,
    g.intervention_code,
    g.group_name,
    coalesce(g.staff_ids, '') as staff_ids,
    nullif(g.day_of_week, '') as day_of_week,
    g.start_minute,
    g.end_minute,
    g.start_date,
    g.end_date
from staging.stg_canonical_provision_groups as g
inner join core.dim_intervention as i on i.intervention_code = g.intervention_code
where g._is_current
