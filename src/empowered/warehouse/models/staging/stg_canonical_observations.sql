-- grain: one row per landed row of observations.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, observation_id, count(*) as n from staging.stg_canonical_observations
--       where _is_current group by school_urn, observation_id having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.school_urn) as school_urn,
        upper(trim(r.upn)) as upn,
        pk.pupil_key,
        coalesce(pr.pupil_key is not null, false) as _pupil_on_roll,
        coalesce(sk.school_urn is not null, false) as _school_known,
        trim(r.observation_id) as observation_id,
        try_cast(trim(r.observed_on) as date) as observed_on,
        r.observed_on as observed_on_raw,
        case when regexp_matches(trim(r.observed_time), '^[0-9]{1,2}:[0-9]{2}$') then try_cast(split_part(trim(r.observed_time), ':', 1) as integer) * 60 + try_cast(split_part(trim(r.observed_time), ':', 2) as integer) end as observed_minute,
        r.observed_time as observed_time_raw,
        trim(r.staff_id) as staff_id,
        lower(trim(r.activity)) as activity,
        lower(trim(r.setting)) as setting,
        try_cast(trim(r.mood) as integer) as mood,
        r.mood as mood_raw,
        try_cast(trim(r.engagement) as integer) as engagement,
        r.engagement as engagement_raw,
        try_cast(trim(r.regulation) as integer) as regulation,
        r.regulation as regulation_raw,
        trim(r.note) as note
    from raw.canonical_observations as r
    left join raw.pupil_pseudonym as pk on pk.upn = upper(trim(r.upn))
    left join (
        select distinct school_urn, pupil_key from staging.stg_canonical_pupils
        where _reject_reason is null
    ) as pr on pr.pupil_key = pk.pupil_key and pr.school_urn = trim(r.school_urn)
    left join (
        select distinct school_urn from staging.stg_canonical_schools where _reject_reason is null
    ) as sk on sk.school_urn = trim(r.school_urn)
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, school_urn, observation_id) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value, 'is not a school in this export (schools.csv)' as reason
    from keyed where not _school_known
    union all
    select _batch_id, _source_row, 6 as rule, 'upn' as column_name,
        cast(upn as varchar) as value, 'is missing: every row must name the pupil by UPN' as reason
    from keyed where upn is null or upn = ''
    union all
    select _batch_id, _source_row, 7 as rule, 'upn' as column_name,
        cast(upn as varchar) as value, 'is not a pupil on roll at this school (pupils.csv)' as reason
    from keyed where upn is not null and upn <> '' and not _pupil_on_roll
    union all
    select _batch_id, _source_row, 10 as rule, 'observed_on' as column_name,
        cast(observed_on_raw as varchar) as value, 'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from keyed where observed_on is null
    union all
    select _batch_id, _source_row, 11 as rule, 'observed_on' as column_name,
        cast(observed_on_raw as varchar) as value, 'is in the future' as reason
    from keyed where observed_on > current_date
    union all
    select _batch_id, _source_row, 12 as rule, 'observed_time' as column_name,
        cast(observed_time_raw as varchar) as value, 'is not a time of day (expected HH:MM, 24-hour)' as reason
    from keyed where observed_time_raw is not null and (observed_minute is null or observed_minute < 0 or observed_minute >= 1440)
    union all
    select _batch_id, _source_row, 13 as rule, 'mood' as column_name,
        cast(mood_raw as varchar) as value, 'is not a whole number from 1 to 5' as reason
    from keyed where mood_raw is not null and (mood is null or mood < 1 or mood > 5)
    union all
    select _batch_id, _source_row, 14 as rule, 'engagement' as column_name,
        cast(engagement_raw as varchar) as value, 'is not a whole number from 1 to 5' as reason
    from keyed where engagement_raw is not null and (engagement is null or engagement < 1 or engagement > 5)
    union all
    select _batch_id, _source_row, 15 as rule, 'regulation' as column_name,
        cast(regulation_raw as varchar) as value, 'is not a whole number from 1 to 5' as reason
    from keyed where regulation_raw is not null and (regulation is null or regulation < 1 or regulation > 5)
    union all
    select _batch_id, _source_row, 16 as rule, 'mood' as column_name,
        cast(mood_raw as varchar) as value, 'is missing, and so are engagement and regulation: nothing was observed' as reason
    from keyed where mood_raw is null and engagement_raw is null and regulation_raw is null
    union all
    select _batch_id, _source_row, 90 as rule, 'observation_id' as column_name,
        cast(observation_id as varchar) as value, 'repeats the observation id on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by school_urn, observation_id, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
