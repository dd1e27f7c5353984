-- grain: one row per pupil per school they have been on roll at
-- unique_key: [pupil_key, school_urn]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn]
-- relationships:
--   school_urn: core.dim_school.school_urn
--   pupil_key: core.dim_pupil.pupil_key
select
    pupil_key,
    school_urn,
    entry_date,
    leaving_date,
    leaving_date is null as is_on_roll
from staging.stg_canonical_pupils
where _is_current
