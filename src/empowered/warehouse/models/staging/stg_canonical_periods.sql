-- grain: one row per landed row of periods.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, period_code, count(*) as n from staging.stg_canonical_periods
--       where _is_current group by school_urn, period_code having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.school_urn) as school_urn,
        coalesce(sk.school_urn is not null, false) as _school_known,
        trim(r.period_code) as period_code,
        trim(r.period_name) as period_name,
        case when regexp_matches(trim(r.start_time), '^[0-9]{1,2}:[0-9]{2}$') then try_cast(split_part(trim(r.start_time), ':', 1) as integer) * 60 + try_cast(split_part(trim(r.start_time), ':', 2) as integer) end as start_minute,
        r.start_time as start_time_raw,
        case when regexp_matches(trim(r.end_time), '^[0-9]{1,2}:[0-9]{2}$') then try_cast(split_part(trim(r.end_time), ':', 1) as integer) * 60 + try_cast(split_part(trim(r.end_time), ':', 2) as integer) end as end_minute,
        r.end_time as end_time_raw
    from raw.canonical_periods as r
    left join (
        select distinct school_urn from staging.stg_canonical_schools where _reject_reason is null
    ) as sk on sk.school_urn = trim(r.school_urn)
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, school_urn, period_code) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value, 'is not a school in this export (schools.csv)' as reason
    from keyed where not _school_known
    union all
    select _batch_id, _source_row, 10 as rule, 'start_time' as column_name,
        cast(start_time_raw as varchar) as value, 'is not a time of day (expected HH:MM, 24-hour)' as reason
    from keyed where start_minute is null or start_minute < 0 or start_minute >= 1440
    union all
    select _batch_id, _source_row, 11 as rule, 'end_time' as column_name,
        cast(end_time_raw as varchar) as value, 'is not a time of day (expected HH:MM, 24-hour)' as reason
    from keyed where end_minute is null or end_minute < 0 or end_minute >= 1440
    union all
    select _batch_id, _source_row, 12 as rule, 'end_time' as column_name,
        cast(end_time_raw as varchar) as value, 'is not after the start time' as reason
    from keyed where end_minute <= start_minute
    union all
    select _batch_id, _source_row, 90 as rule, 'period_code' as column_name,
        cast(period_code as varchar) as value, 'repeats the period on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
    from keyed where _source_row > _first_row_with_key
),

first_issue as (
    select *, row_number() over (
        partition by _batch_id, _source_row order by rule, column_name
    ) as n
    from issues
),

checked as (
    select
        t.*,
        i.column_name as _reject_column,
        i.value as _reject_value,
        i.reason as _reject_reason
    from keyed as t
    left join first_issue as i
        on i._batch_id = t._batch_id and i._source_row = t._source_row and i.n = 1
)

select
    *,
    coalesce(_reject_reason is null and row_number() over (
        partition by school_urn, period_code, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
