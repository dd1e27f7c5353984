-- grain: one row per landed row of exclusions.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, exclusion_id, count(*) as n from staging.stg_canonical_exclusions
--       where _is_current group by school_urn, exclusion_id having count(*) > 1
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
        trim(r.exclusion_id) as exclusion_id,
        try_cast(trim(r.start_date) as date) as start_date,
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
    left join raw.pupil_pseudonym as pk on pk.upn = upper(trim(r.upn))
    left join (
        select distinct school_urn, pupil_key from staging.stg_canonical_pupils
        where _reject_reason is null
    ) as pr on pr.pupil_key = pk.pupil_key and pr.school_urn = trim(r.school_urn)
    left join (
        select distinct school_urn from staging.stg_canonical_schools where _reject_reason is null
    ) as sk on sk.school_urn = trim(r.school_urn)
    left join reference.exclusion_reason as x1 on x1.code = upper(trim(r.reason_1))
    left join reference.exclusion_reason as x2 on x2.code = upper(trim(r.reason_2))
    left join reference.exclusion_reason as x3 on x3.code = upper(trim(r.reason_3))
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, school_urn, exclusion_id) as _first_row_with_key
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
    select _batch_id, _source_row, 8 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value, 'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from keyed where start_date is null
    union all
    select _batch_id, _source_row, 9 as rule, 'category' as column_name,
        cast(category as varchar) as value, 'is not one of: suspension, permanent' as reason
    from keyed where category is null or category not in ('suspension', 'permanent')
    union all
    select _batch_id, _source_row, 11 as rule, 'reason_1' as column_name,
        cast(reason_1 as varchar) as value, 'is not a DfE suspension or exclusion reason code' as reason
    from keyed where reason_1 is not null and reason_1 <> '' and not _reason_1_known
    union all
    select _batch_id, _source_row, 12 as rule, 'reason_2' as column_name,
        cast(reason_2 as varchar) as value, 'is not a DfE suspension or exclusion reason code' as reason
    from keyed where reason_2 is not null and reason_2 <> '' and not _reason_2_known
    union all
    select _batch_id, _source_row, 13 as rule, 'reason_3' as column_name,
        cast(reason_3 as varchar) as value, 'is not a DfE suspension or exclusion reason code' as reason
    from keyed where reason_3 is not null and reason_3 <> '' and not _reason_3_known
    union all
    select _batch_id, _source_row, 14 as rule, 'reason_1' as column_name,
        cast(reason_1 as varchar) as value, 'is missing: a suspension or exclusion needs at least one reason' as reason
    from keyed where reason_1 is null or reason_1 = ''
    union all
    select _batch_id, _source_row, 15 as rule, 'sessions' as column_name,
        cast(sessions_raw as varchar) as value, 'is not a number of zero or more' as reason
    from keyed where sessions_raw is not null and (sessions is null or sessions < 0)
    union all
    select _batch_id, _source_row, 90 as rule, 'exclusion_id' as column_name,
        cast(exclusion_id as varchar) as value, 'repeats the exclusion id on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by school_urn, exclusion_id, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
