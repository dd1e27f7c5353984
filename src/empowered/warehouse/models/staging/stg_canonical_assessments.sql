-- grain: one row per landed row of assessments.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, upn, assessed_on, subject, assessment, measure]
-- Rules are numbered: a rejected row reports its lowest-numbered problem. The shared
-- ending (warehouse/templates/validated_rows.sql) adds duplicates, quarantine and
-- which row is current.
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.school_urn) as school_urn,
        upper(trim(r.upn)) as upn,
        roll.pupil_key,
        roll.pupil_key is not null as _pupil_on_roll,
        sk.school_urn is not null as _school_known,
        try_cast(trim(r.assessed_on) as date) as assessed_on,
        r.assessed_on as assessed_on_raw,
        lower(trim(r.subject)) as subject,
        lower(trim(r.assessment)) as assessment,
        lower(trim(r.measure)) as measure,
        try_cast(trim(r.value) as double) as value,
        r.value as value_raw
    from raw.canonical_assessments as r
    left join staging.stg_canonical_pupil_roll as roll
        on roll.school_urn = trim(r.school_urn) and roll.upn = upper(trim(r.upn))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
),

issues as (
    select _batch_id, _source_row, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, 6 as rule, 'upn' as column_name,
        cast(upn as varchar) as value,
        'is missing: every row must name the pupil by UPN' as reason
    from typed where upn is null or upn = ''
    union all
    select _batch_id, _source_row, 7 as rule, 'upn' as column_name,
        cast(upn as varchar) as value,
        'is not a pupil on roll at this school (pupils.csv)' as reason
    from typed where upn is not null and upn <> '' and not _pupil_on_roll
    union all
    select _batch_id, _source_row, 10 as rule, 'assessed_on' as column_name,
        cast(assessed_on_raw as varchar) as value,
        'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from typed where assessed_on is null
    union all
    select _batch_id, _source_row, 11 as rule, 'measure' as column_name,
        cast(measure as varchar) as value,
        'is not one of: standardised_score, reading_age_months, spelling_age_months' as reason
    from typed where measure is null or measure not in ('standardised_score', 'reading_age_months', 'spelling_age_months')
    union all
    select _batch_id, _source_row, 12 as rule, 'value' as column_name,
        cast(value_raw as varchar) as value,
        'is missing or not a number' as reason
    from typed where value is null
    union all
    select _batch_id, _source_row, 13 as rule, 'value' as column_name,
        cast(value_raw as varchar) as value,
        'is outside the range of a standardised score (40 to 160)' as reason
    from typed where measure = 'standardised_score' and (value < 40 or value > 160)
)
