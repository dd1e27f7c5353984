-- grain: one row per landed row of periods.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, period_code]
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
        trim(r.period_code) as period_code,
        trim(r.period_name) as period_name,
        case when regexp_matches(trim(r.start_time), '^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$')
            then try_cast(split_part(trim(r.start_time), ':', 1) as integer) * 60
                + try_cast(split_part(trim(r.start_time), ':', 2) as integer)
        end as start_minute,
        r.start_time as start_time_raw,
        case when regexp_matches(trim(r.end_time), '^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$')
            then try_cast(split_part(trim(r.end_time), ':', 1) as integer) * 60
                + try_cast(split_part(trim(r.end_time), ':', 2) as integer)
        end as end_minute,
        r.end_time as end_time_raw
    from raw.canonical_periods as r
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
),

issues as (
    select _batch_id, _source_row, _source_item, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'start_time' as column_name,
        cast(start_time_raw as varchar) as value,
        'is not a time of day (expected HH:MM, 24-hour)' as reason
    from typed where start_minute is null or start_minute < 0 or start_minute >= 1440
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'end_time' as column_name,
        cast(end_time_raw as varchar) as value,
        'is not a time of day (expected HH:MM, 24-hour)' as reason
    from typed where end_minute is null or end_minute < 0 or end_minute >= 1440
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'end_time' as column_name,
        cast(end_time_raw as varchar) as value,
        'is not after the start time' as reason
    from typed where end_minute <= start_minute
)
