-- grain: one row per landed row of exclusions.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, exclusion_id]
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
        trim(r.exclusion_id) as exclusion_id,
        case
            when regexp_matches(trim(r.start_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.start_date) as date)
            when regexp_matches(trim(r.start_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.start_date), '/', 3) || '-' || lpad(split_part(trim(r.start_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.start_date), '/', 1), 2, '0') as date)
        end as start_date,
        r.start_date as start_date_raw,
        lower(trim(r.category)) as category,
        try_cast(trim(r.sessions) as double) as sessions,
        r.sessions as sessions_raw,
        upper(trim(r.reason_1)) as reason_1,
        upper(trim(r.reason_2)) as reason_2,
        upper(trim(r.reason_3)) as reason_3,
        coalesce(x1.code is not null, false) as _reason_1_known,
        coalesce(x2.code is not null, false) as _reason_2_known,
        coalesce(x3.code is not null, false) as _reason_3_known
    from raw.canonical_exclusions as r
    left join staging.stg_canonical_pupil_refs as ref
        on ref.ref_key = concat_ws('|', coalesce(trim(r.school_urn), ''), coalesce(r.upn_bidx, ''),
            coalesce(r.mis_id_bidx, ''), coalesce(r.pupil_name_bidx, ''),
            coalesce(r.pupil_name_dob_bidx, r.pupil_dob_state, ''), coalesce(upper(trim(r.pupil_group)), ''))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join reference.exclusion_reason as x1 on x1.code = upper(trim(r.reason_1))
    left join reference.exclusion_reason as x2 on x2.code = upper(trim(r.reason_2))
    left join reference.exclusion_reason as x3 on x3.code = upper(trim(r.reason_3))
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
    select _batch_id, _source_row, _source_item, 8 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where start_date is null
    union all
    select _batch_id, _source_row, _source_item, 9 as rule, 'category' as column_name,
        cast(category as varchar) as value,
        'is not one of: suspension, permanent' as reason
    from typed where category is null or category not in ('suspension', 'permanent')
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'reason_1' as column_name,
        cast(reason_1 as varchar) as value,
        'is not a DfE suspension or exclusion reason code' as reason
    from typed where reason_1 is not null and reason_1 <> '' and not _reason_1_known
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'reason_2' as column_name,
        cast(reason_2 as varchar) as value,
        'is not a DfE suspension or exclusion reason code' as reason
    from typed where reason_2 is not null and reason_2 <> '' and not _reason_2_known
    union all
    select _batch_id, _source_row, _source_item, 13 as rule, 'reason_3' as column_name,
        cast(reason_3 as varchar) as value,
        'is not a DfE suspension or exclusion reason code' as reason
    from typed where reason_3 is not null and reason_3 <> '' and not _reason_3_known
    union all
    select _batch_id, _source_row, _source_item, 14 as rule, 'reason_1' as column_name,
        cast(reason_1 as varchar) as value,
        'is missing: a suspension or exclusion needs at least one reason' as reason
    from typed where reason_1 is null or reason_1 = ''
    union all
    select _batch_id, _source_row, _source_item, 15 as rule, 'sessions' as column_name,
        cast(sessions_raw as varchar) as value,
        'is not a number of zero or more' as reason
    from typed where sessions_raw is not null and (sessions is null or sessions < 0)
    union all
    select _batch_id, _source_row, _source_item, 19 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value,
        'is outside the pupil''s time on roll at this school' as reason
    from typed where start_date < _pupil_entry_date or start_date > _pupil_leaving_date
)
