-- grain: one row per landed row of groups.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, group_code, upn]
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
        trim(r.group_code) as group_code,
        trim(r.staff_id) as staff_id
    from raw.canonical_groups as r
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
    select _batch_id, _source_row, 10 as rule, 'group_code' as column_name,
        cast(group_code as varchar) as value,
        'is missing' as reason
    from typed where group_code is null or group_code = ''
)
