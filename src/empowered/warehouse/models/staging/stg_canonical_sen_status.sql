-- grain: one row per landed row of sen_status.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, upn, start_date]
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
        try_cast(trim(r.start_date) as date) as start_date,
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
    left join staging.stg_canonical_pupil_roll as roll
        on roll.school_urn = trim(r.school_urn) and roll.upn = upper(trim(r.upn))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join reference.sen_provision as sp on sp.code = upper(trim(r.sen_provision))
    left join reference.sen_need as n1 on n1.code = upper(trim(r.primary_need)) and n1.effective_to is null
    left join reference.sen_need as n2 on n2.code = upper(trim(r.secondary_need)) and n2.effective_to is null
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
    select _batch_id, _source_row, 10 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value,
        'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from typed where start_date is null
    union all
    select _batch_id, _source_row, 11 as rule, 'sen_provision' as column_name,
        cast(sen_provision_raw as varchar) as value,
        'is not a SEN provision code (E, K or N; old files S, A, P)' as reason
    from typed where sen_provision is null
    union all
    select _batch_id, _source_row, 12 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value,
        'is not a DfE SEN type of need code (e.g. ASD, SLCN, SEMH)' as reason
    from typed where primary_need is not null and primary_need <> '' and not _primary_need_known
    union all
    select _batch_id, _source_row, 13 as rule, 'secondary_need' as column_name,
        cast(secondary_need as varchar) as value,
        'is not a DfE SEN type of need code (e.g. ASD, SLCN, SEMH)' as reason
    from typed where secondary_need is not null and secondary_need <> '' and not _secondary_need_known
    union all
    select _batch_id, _source_row, 14 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value,
        'is missing: a pupil with an EHC plan or SEN support needs a primary need' as reason
    from typed where sen_provision in ('E', 'K') and (primary_need is null or primary_need = '')
    union all
    select _batch_id, _source_row, 15 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value,
        'is given for a pupil with no SEN (provision N)' as reason
    from typed where sen_provision = 'N' and primary_need is not null and primary_need <> ''
    union all
    select _batch_id, _source_row, 16 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value,
        'NSA (no specialist assessment) is only used for SEN support, not EHC plans' as reason
    from typed where sen_provision = 'E' and _primary_need_support_only
)
