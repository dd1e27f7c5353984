-- grain: one row per landed row of characteristics.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, pupil_key, effective_date]
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
        case
            when regexp_matches(trim(r.effective_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.effective_date) as date)
            when regexp_matches(trim(r.effective_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.effective_date), '/', 3) || '-' || lpad(split_part(trim(r.effective_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.effective_date), '/', 1), 2, '0') as date)
        end as effective_date,
        r.effective_date as effective_date_raw,
        upper(trim(r.year_group)) as year_group,
        trim(r.reg_group) as reg_group,
        case
            when upper(trim(r.fsm)) in ('Y', 'YES', 'TRUE', 'T', '1') then true
            when upper(trim(r.fsm)) in ('N', 'NO', 'FALSE', 'F', '0') then false
        end as fsm,
        r.fsm as fsm_raw,
        case
            when upper(trim(r.pupil_premium)) in ('Y', 'YES', 'TRUE', 'T', '1') then true
            when upper(trim(r.pupil_premium)) in ('N', 'NO', 'FALSE', 'F', '0') then false
        end as pupil_premium,
        r.pupil_premium as pupil_premium_raw,
        case
            when upper(trim(r.looked_after)) in ('Y', 'YES', 'TRUE', 'T', '1') then true
            when upper(trim(r.looked_after)) in ('N', 'NO', 'FALSE', 'F', '0') then false
        end as looked_after,
        r.looked_after as looked_after_raw,
        case
            when upper(trim(r.service_child)) in ('Y', 'YES', 'TRUE', 'T', '1') then true
            when upper(trim(r.service_child)) in ('N', 'NO', 'FALSE', 'F', '0') then false
        end as service_child,
        r.service_child as service_child_raw,
        coalesce(yg.code is not null, false) as _year_group_known
    from raw.canonical_characteristics as r
    left join staging.stg_canonical_pupil_refs as ref
        on ref.ref_key = concat_ws('|', coalesce(trim(r.school_urn), ''), coalesce(r.upn_bidx, ''),
            coalesce(r.mis_id_bidx, ''), coalesce(r.pupil_name_bidx, ''),
            coalesce(r.pupil_name_dob_bidx, r.pupil_dob_state, ''), coalesce(upper(trim(r.pupil_group)), ''))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join reference.year_group as yg on yg.code = upper(trim(r.year_group))
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
    select _batch_id, _source_row, _source_item, 10 as rule, 'effective_date' as column_name,
        cast(effective_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where effective_date is null
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'year_group' as column_name,
        cast(year_group as varchar) as value,
        'is not a DfE year group (N1, N2, R, 1 to 14)' as reason
    from typed where year_group is not null and not _year_group_known
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'fsm' as column_name,
        cast(fsm_raw as varchar) as value,
        'must be Y or N (or Yes/No)' as reason
    from typed where fsm_raw is not null and fsm is null
    union all
    select _batch_id, _source_row, _source_item, 13 as rule, 'pupil_premium' as column_name,
        cast(pupil_premium_raw as varchar) as value,
        'must be Y or N (or Yes/No)' as reason
    from typed where pupil_premium_raw is not null and pupil_premium is null
    union all
    select _batch_id, _source_row, _source_item, 14 as rule, 'looked_after' as column_name,
        cast(looked_after_raw as varchar) as value,
        'must be Y or N (or Yes/No)' as reason
    from typed where looked_after_raw is not null and looked_after is null
    union all
    select _batch_id, _source_row, _source_item, 15 as rule, 'service_child' as column_name,
        cast(service_child_raw as varchar) as value,
        'must be Y or N (or Yes/No)' as reason
    from typed where service_child_raw is not null and service_child is null
)
