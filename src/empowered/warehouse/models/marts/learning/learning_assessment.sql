-- grain: one row per pupil per assessment result (subject, test, measure, date)
-- unique_key: [pupil_key, school_urn, assessed_on, subject, assessment, measure]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, assessed_on, measure, value, result_number, first_value,
--   change_since_first]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- checks:
--   - name: only_the_first_result_has_no_previous
--     sql: >-
--       select * from marts.learning_assessment
--       where (result_number = 1) <> (previous_value is null)
-- Progress needs each result beside the ones before it. A pupil's results are a series
-- per subject, assessment and measure (a standardised score and a reading age never mix),
-- followed across schools: a pupil who moves keeps their history, as the Common Transfer
-- File carries it. Results on the same day at two schools are ordered by school_urn so
-- result_number is deterministic. change_since_first is 0 on the first result.
with ordered as (
    select
        a.pupil_key,
        a.school_urn,
        a.assessed_on,
        a.academic_year,
        a.term,
        a.subject,
        a.assessment,
        a.measure,
        a.value,
        a.batch_id,
        row_number() over (
            partition by a.pupil_key, a.subject, a.assessment, a.measure
            order by a.assessed_on, a.school_urn
        ) as result_number,
        lag(a.value) over (
            partition by a.pupil_key, a.subject, a.assessment, a.measure
            order by a.assessed_on, a.school_urn
        ) as previous_value,
        lag(a.assessed_on) over (
            partition by a.pupil_key, a.subject, a.assessment, a.measure
            order by a.assessed_on, a.school_urn
        ) as previous_assessed_on,
        first_value(a.value) over (
            partition by a.pupil_key, a.subject, a.assessment, a.measure
            order by a.assessed_on, a.school_urn
            rows between unbounded preceding and current row
        ) as first_value
    from core.fct_assessment as a
)

select
    pupil_key,
    school_urn,
    assessed_on,
    academic_year,
    term,
    subject,
    assessment,
    measure,
    value,
    result_number,
    previous_value,
    previous_assessed_on,
    value - previous_value as change_since_previous,
    first_value,
    value - first_value as change_since_first,
    batch_id  -- where it came from (views.provenance)
from ordered
