-- grain: one row per pupil per assessment result (subject, test, measure, date)
-- unique_key: [pupil_key, school_urn, assessed_on, subject, assessment, measure]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, assessed_on, measure, value]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
select
    a.pupil_key,
    a.school_urn,
    a.assessed_on,
    c.academic_year,
    c.term,
    a.subject,
    a.assessment,
    a.measure,
    a.value,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    a._batch_id as batch_id
from staging.stg_canonical_assessments as a
left join core.dim_school_calendar as c
    on c.school_urn = a.school_urn and c.date_day = a.assessed_on
where a._is_current
