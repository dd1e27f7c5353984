-- grain: one row per landed row of closures.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, closure_date]
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
        case
            when regexp_matches(trim(r.date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.date) as date)
            when regexp_matches(trim(r.date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.date), '/', 3) || '-' || lpad(split_part(trim(r.date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.date), '/', 1), 2, '0') as date)
        end as closure_date,
        r.date as closure_date_raw,
        lower(trim(r.reason)) as reason
    from raw.canonical_closures as r
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
),

issues as (
    select _batch_id, _source_row, _source_item, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'closure_date' as column_name,
        cast(closure_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where closure_date is null
)
