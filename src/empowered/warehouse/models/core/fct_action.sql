-- grain: one row per action agreed for a pupil (from a review, a trigger or a meeting)
-- unique_key: [action_key]
-- incremental:
--   by: pupil_key
-- not_null: [action_key, pupil_key, school_urn, raised_on]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
select
    school_urn || ':' || action_id as action_key,
    action_id,
    pupil_key,
    school_urn,
    raised_on,
    source,
    description,
    owner_role,
    due_date,
    completed_on,
    completed_on is null as is_open
from staging.stg_canonical_actions
where _is_current
