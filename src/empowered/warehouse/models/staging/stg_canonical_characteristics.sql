-- grain: one row per landed row of characteristics.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, upn, effective_date]
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
        try_cast(trim(r.effective_date) as date) as effective_date,
        r.effective_date as effective_date_raw,
        upper(trim(r.year_group)) as year_group,
        trim(r.reg_group) as reg_group,
        case upper(trim(r.fsm)) when 'Y' then true when 'N' then false end as fsm,
        r.fsm as fsm_raw,
        case upper(trim(r.pupil_premium)) when 'Y' then true when 'N' then false end as pupil_premium,
        r.pupil_premium as pupil_premium_raw,
        case upper(trim(r.looked_after)) when 'Y' then true when 'N' then false end as looked_after,
        r.looked_after as looked_after_raw,
        case upper(trim(r.service_child)) when 'Y' then true when 'N' then false end as service_child,
        r.service_child as service_child_raw,
        coalesce(yg.code is not null, false) as _year_group_known
    from raw.canonical_characteristics as r
    left join staging.stg_canonical_pupil_roll as roll
        on roll.school_urn = trim(r.school_urn) and roll.upn = upper(trim(r.upn))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join reference.year_group as yg on yg.code = upper(trim(r.year_group))
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
    select _batch_id, _source_row, 10 as rule, 'effective_date' as column_name,
        cast(effective_date_raw as varchar) as value,
        'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from typed where effective_date is null
    union all
    select _batch_id, _source_row, 11 as rule, 'year_group' as column_name,
        cast(year_group as varchar) as value,
        'is not a DfE year group (N1, N2, R, 1 to 14)' as reason
    from typed where year_group is not null and not _year_group_known
    union all
    select _batch_id, _source_row, 12 as rule, 'fsm' as column_name,
        cast(fsm_raw as varchar) as value,
        'must be Y or N' as reason
    from typed where fsm_raw is not null and fsm is null
    union all
    select _batch_id, _source_row, 13 as rule, 'pupil_premium' as column_name,
        cast(pupil_premium_raw as varchar) as value,
        'must be Y or N' as reason
    from typed where pupil_premium_raw is not null and pupil_premium is null
    union all
    select _batch_id, _source_row, 14 as rule, 'looked_after' as column_name,
        cast(looked_after_raw as varchar) as value,
        'must be Y or N' as reason
    from typed where looked_after_raw is not null and looked_after is null
    union all
    select _batch_id, _source_row, 15 as rule, 'service_child' as column_name,
        cast(service_child_raw as varchar) as value,
        'must be Y or N' as reason
    from typed where service_child_raw is not null and service_child is null
)
