-- grain: one row per landed row of staff.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, staff_id]
-- Rules are numbered: a rejected row reports its lowest-numbered problem; rules from
-- 100 up are warnings (the row is accepted and the warning reported). The shared
-- ending (warehouse/templates/validated_rows.sql) adds duplicates, quarantine and
-- which row is current.
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_item,
        r._source_file,
        trim(r.school_urn) as school_urn,
        sk.school_urn is not null as _school_known,
        trim(r.staff_id) as staff_id,
        lower(trim(r.role)) as role,
        r.role as role_raw
    from raw.canonical_staff as r
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
),

issues as (
    select _batch_id, _source_row, _source_item, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'role' as column_name,
        cast(role_raw as varchar) as value,
        'is not one of: teacher, teaching_assistant, senco, dsl, therapist, pastoral, leader' as reason
    from typed where role is null or role not in ('teacher', 'teaching_assistant', 'senco', 'dsl', 'therapist', 'pastoral', 'leader')
)
