-- grain: one row per member of staff per school (a code only: staff names are not held)
-- unique_key: [school_urn, staff_id]
-- not_null: [school_urn, staff_id, role]
-- relationships:
--   school_urn: core.dim_school.school_urn
--   role: core.dim_staff_role.role
select
    school_urn,
    staff_id,
    role
from staging.stg_canonical_staff
where _is_current
