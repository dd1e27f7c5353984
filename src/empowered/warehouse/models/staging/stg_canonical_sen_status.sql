-- grain: one row per landed row of sen_status.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, pupil_key, start_date]
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
            when regexp_matches(trim(r.start_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.start_date) as date)
            when regexp_matches(trim(r.start_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.start_date), '/', 3) || '-' || lpad(split_part(trim(r.start_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.start_date), '/', 1), 2, '0') as date)
        end as start_date,
        r.start_date as start_date_raw,
        upper(trim(r.sen_provision)) as sen_provision_raw,
        sp.maps_to as sen_provision,
        coalesce(not sp.is_current, false) as _provision_code_retired,
        upper(trim(r.primary_need)) as primary_need,
        upper(trim(r.secondary_need)) as secondary_need,
        coalesce(n1.code is not null, false) as _primary_need_known,
        coalesce(n2.code is not null, false) as _secondary_need_known,
        coalesce(n1.sen_support_only, false) as _primary_need_support_only
    from raw.canonical_sen_status as r
    left join staging.stg_canonical_pupil_refs as ref
        on ref.ref_key = concat_ws('|', coalesce(trim(r.school_urn), ''), coalesce(r.upn_bidx, ''),
            coalesce(r.mis_id_bidx, ''), coalesce(r.pupil_name_bidx, ''),
            coalesce(r.pupil_name_dob_bidx, r.pupil_dob_state, ''), coalesce(upper(trim(r.pupil_group)), ''))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join reference.sen_provision as sp on sp.code = upper(trim(r.sen_provision))
    left join reference.sen_need as n1 on n1.code = upper(trim(r.primary_need)) and n1.effective_to is null
    left join reference.sen_need as n2 on n2.code = upper(trim(r.secondary_need)) and n2.effective_to is null
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
    select _batch_id, _source_row, _source_item, 10 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where start_date is null
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'sen_provision' as column_name,
        cast(sen_provision_raw as varchar) as value,
        'is not a SEN provision code (E, K or N; old files S, A, P)' as reason
    from typed where sen_provision is null
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value,
        'is not a DfE SEN type of need code (e.g. ASD, SLCN, SEMH)' as reason
    from typed where primary_need is not null and primary_need <> '' and not _primary_need_known
    union all
    select _batch_id, _source_row, _source_item, 13 as rule, 'secondary_need' as column_name,
        cast(secondary_need as varchar) as value,
        'is not a DfE SEN type of need code (e.g. ASD, SLCN, SEMH)' as reason
    from typed where secondary_need is not null and secondary_need <> '' and not _secondary_need_known
    union all
    select _batch_id, _source_row, _source_item, 14 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value,
        'is missing: a pupil with an EHC plan or SEN support needs a primary need' as reason
    from typed where sen_provision in ('E', 'K') and (primary_need is null or primary_need = '')
    union all
    select _batch_id, _source_row, _source_item, 15 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value,
        'is given for a pupil with no SEN (provision N)' as reason
    from typed where sen_provision = 'N' and primary_need is not null and primary_need <> ''
    union all
    select _batch_id, _source_row, _source_item, 16 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value,
        'NSA (no specialist assessment) is only used for SEN support, not EHC plans' as reason
    from typed where sen_provision = 'E' and _primary_need_support_only
    union all
    select _batch_id, _source_row, _source_item, 100 as rule, 'sen_provision' as column_name,
        cast(sen_provision_raw as varchar) as value,
        'is a code from before 2015, read as ' || sen_provision as reason
    from typed where _provision_code_retired and sen_provision is not null
)
