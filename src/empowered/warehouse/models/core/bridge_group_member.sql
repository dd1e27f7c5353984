-- grain: one row per pupil per teaching group (class, set, intervention or TA group)
-- unique_key: [school_urn, group_code, pupil_key]
-- incremental:
--   by: pupil_key
-- not_null: [school_urn, group_code, pupil_key]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- Who teaches whom: later decides which pupils a teacher or assistant may see.
select
    school_urn,
    group_code,
    pupil_key,
    nullif(staff_id, '') as staff_id
from staging.stg_canonical_groups
where _is_current
