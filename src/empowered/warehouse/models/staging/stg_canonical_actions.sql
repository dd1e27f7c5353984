-- grain: one row per landed row of actions.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, action_id]
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
        trim(r.action_id) as action_id,
        try_cast(trim(r.raised_on) as date) as raised_on,
        r.raised_on as raised_on_raw,
        lower(trim(r.source)) as source,
        trim(r.description) as description,
        lower(trim(r.owner_role)) as owner_role,
        try_cast(trim(r.due_date) as date) as due_date,
        r.due_date as due_date_raw,
        try_cast(trim(r.completed_on) as date) as completed_on,
        r.completed_on as completed_on_raw
    from raw.canonical_actions as r
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
    select _batch_id, _source_row, 10 as rule, 'raised_on' as column_name,
        cast(raised_on_raw as varchar) as value,
        'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from typed where raised_on is null
    union all
    select _batch_id, _source_row, 11 as rule, 'due_date' as column_name,
        cast(due_date_raw as varchar) as value,
        'is not a date (expected YYYY-MM-DD)' as reason
    from typed where due_date_raw is not null and due_date is null
    union all
    select _batch_id, _source_row, 12 as rule, 'completed_on' as column_name,
        cast(completed_on_raw as varchar) as value,
        'is not a date (expected YYYY-MM-DD)' as reason
    from typed where completed_on_raw is not null and completed_on is null
    union all
    select _batch_id, _source_row, 13 as rule, 'source' as column_name,
        cast(source as varchar) as value,
        'is not one of: review, trigger, meeting' as reason
    from typed where source is not null and source not in ('review', 'trigger', 'meeting')
)
