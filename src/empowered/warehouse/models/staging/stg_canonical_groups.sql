-- grain: one row per landed row of groups.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, group_code, pupil_key]
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
        r.upn as upn,
        r.mis_id as mis_id,
        r.pupil_name as pupil_name,
        r.pupil_dob as pupil_dob,
        upper(trim(r.pupil_group)) as pupil_group,
        ref.pupil_key,
        ref.method as _pupil_match_method,
        ref.problem_column as _pupil_problem_column,
        ref.problem_value as _pupil_problem_value,
        ref.problem_reason as _pupil_problem_reason,
        ref.entry_date as _pupil_entry_date,
        ref.leaving_date as _pupil_leaving_date,
        sk.school_urn is not null as _school_known,
        trim(r.group_code) as group_code,
        trim(r.staff_id) as staff_id
    from raw.canonical_groups as r
    left join staging.stg_canonical_pupil_refs as ref
        on ref.ref_key = concat_ws('|', coalesce(trim(r.school_urn), ''), coalesce(r.upn_bidx, ''),
            coalesce(r.mis_id_bidx, ''), coalesce(r.pupil_name_bidx, ''),
            coalesce(r.pupil_name_dob_bidx, r.pupil_dob_state, ''), coalesce(upper(trim(r.pupil_group)), ''))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
),

issues as (
    select _batch_id, _source_row, _source_item, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, _source_item, 6 as rule, _pupil_problem_column as column_name,
        cast(_pupil_problem_value as varchar) as value,
        _pupil_problem_reason as reason
    from typed where _pupil_problem_reason is not null
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'group_code' as column_name,
        cast(group_code as varchar) as value,
        'is missing' as reason
    from typed where group_code is null or group_code = ''
)
