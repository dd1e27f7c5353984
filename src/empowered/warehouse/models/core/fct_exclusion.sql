-- grain: one row per suspension or permanent exclusion
-- unique_key: [exclusion_key]
-- incremental:
--   by: pupil_key
-- not_null: [exclusion_key, pupil_key, school_urn, start_date, category]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   category: [suspension, permanent]
-- The reasons are in fct_exclusion_reason (one row each), so a longer DfE list needs no
-- schema change.
select
    e.school_urn || ':' || e.exclusion_id as exclusion_key,
    e.exclusion_id,
    e.pupil_key,
    e.school_urn,
    e.start_date,
    c.academic_year,
    c.term,
    e.category,
    e.sessions,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    e._batch_id as batch_id
from staging.stg_canonical_exclusions as e
left join core.dim_school_calendar as c
    on c.school_urn = e.school_urn and c.date_day = e.start_date
where e._is_current
