-- grain: one row per landed row of provision_enrolments.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [enrolment_id]
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
        trim(r.enrolment_id) as enrolment_id,
        lower(trim(r.intervention_code)) as intervention_code,
        trim(r.staff_id) as staff_id,
        try_cast(trim(r.start_date) as date) as start_date,
        r.start_date as start_date_raw,
        try_cast(trim(r.end_date) as date) as end_date,
        r.end_date as end_date_raw,
        try_cast(trim(r.sessions_planned) as integer) as sessions_planned,
        r.sessions_planned as sessions_planned_raw,
        try_cast(trim(r.pre_date) as date) as pre_date,
        r.pre_date as pre_date_raw,
        try_cast(trim(r.pre_score) as double) as pre_score,
        r.pre_score as pre_score_raw,
        try_cast(trim(r.post_date) as date) as post_date,
        r.post_date as post_date_raw,
        try_cast(trim(r.post_score) as double) as post_score,
        r.post_score as post_score_raw,
        coalesce(ic.intervention_code is not null, false) as _intervention_known
    from raw.canonical_provision_enrolments as r
    left join staging.stg_canonical_pupil_roll as roll
        on roll.school_urn = trim(r.school_urn) and roll.upn = upper(trim(r.upn))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join (
        select distinct intervention_code from staging.stg_canonical_interventions where _reject_reason is null
    ) as ic on ic.intervention_code = lower(trim(r.intervention_code))
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
    select _batch_id, _source_row, 8 as rule, 'intervention_code' as column_name,
        cast(intervention_code as varchar) as value,
        'is not an intervention in the catalogue (interventions.csv)' as reason
    from typed where not _intervention_known
    union all
    select _batch_id, _source_row, 10 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value,
        'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from typed where start_date is null
    union all
    select _batch_id, _source_row, 11 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value,
        'is not a date (expected YYYY-MM-DD)' as reason
    from typed where end_date_raw is not null and end_date is null
    union all
    select _batch_id, _source_row, 12 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value,
        'is before the start date' as reason
    from typed where end_date < start_date
    union all
    select _batch_id, _source_row, 13 as rule, 'sessions_planned' as column_name,
        cast(sessions_planned_raw as varchar) as value,
        'is not a number of zero or more' as reason
    from typed where sessions_planned_raw is not null and (sessions_planned is null or sessions_planned < 0)
    union all
    select _batch_id, _source_row, 14 as rule, 'pre_date' as column_name,
        cast(pre_date_raw as varchar) as value,
        'is not a date (expected YYYY-MM-DD)' as reason
    from typed where pre_date_raw is not null and pre_date is null
    union all
    select _batch_id, _source_row, 15 as rule, 'post_date' as column_name,
        cast(post_date_raw as varchar) as value,
        'is not a date (expected YYYY-MM-DD)' as reason
    from typed where post_date_raw is not null and post_date is null
    union all
    select _batch_id, _source_row, 16 as rule, 'pre_score' as column_name,
        cast(pre_score_raw as varchar) as value,
        'is not a number' as reason
    from typed where pre_score_raw is not null and pre_score is null
    union all
    select _batch_id, _source_row, 17 as rule, 'post_score' as column_name,
        cast(post_score_raw as varchar) as value,
        'is not a number' as reason
    from typed where post_score_raw is not null and post_score is null
    union all
    select _batch_id, _source_row, 18 as rule, 'post_date' as column_name,
        cast(post_date_raw as varchar) as value,
        'is before the pre-assessment date' as reason
    from typed where post_date < pre_date
)
