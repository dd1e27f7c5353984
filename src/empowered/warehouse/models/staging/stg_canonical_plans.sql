-- grain: one row per landed row of plans.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [plan_id]
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
        trim(r.plan_id) as plan_id,
        lower(trim(r.plan_type)) as plan_type,
        try_cast(trim(r.start_date) as date) as start_date,
        r.start_date as start_date_raw,
        try_cast(trim(r.end_date) as date) as end_date,
        r.end_date as end_date_raw,
        try_cast(trim(r.next_review_due) as date) as next_review_due,
        r.next_review_due as next_review_due_raw
    from raw.canonical_plans as r
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
    select _batch_id, _source_row, 8 as rule, 'plan_type' as column_name,
        cast(plan_type as varchar) as value,
        'is not one of: sen_support_plan, ehc_plan' as reason
    from typed where plan_type is null or plan_type not in ('sen_support_plan', 'ehc_plan')
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
    select _batch_id, _source_row, 13 as rule, 'next_review_due' as column_name,
        cast(next_review_due_raw as varchar) as value,
        'is not a date (expected YYYY-MM-DD)' as reason
    from typed where next_review_due_raw is not null and next_review_due is null
)
