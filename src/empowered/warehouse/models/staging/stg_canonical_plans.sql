-- grain: one row per landed row of plans.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select plan_id, count(*) as n from staging.stg_canonical_plans
--       where _is_current group by plan_id having count(*) > 1
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
        trim(r.plan_id) as plan_id,
        lower(trim(r.plan_type)) as plan_type,
        try_cast(trim(r.start_date) as date) as start_date,
        r.start_date as start_date_raw,
        try_cast(trim(r.end_date) as date) as end_date,
        r.end_date as end_date_raw,
        try_cast(trim(r.next_review_due) as date) as next_review_due,
        r.next_review_due as next_review_due_raw
    from raw.canonical_plans as r
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
        min(_source_row) over (partition by _batch_id, plan_id) as _first_row_with_key
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
    select _batch_id, _source_row, 8 as rule, 'plan_type' as column_name,
        cast(plan_type as varchar) as value, 'is not one of: sen_support_plan, ehc_plan' as reason
    from keyed where plan_type is null or plan_type not in ('sen_support_plan', 'ehc_plan')
    union all
    select _batch_id, _source_row, 10 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value, 'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from keyed where start_date is null
    union all
    select _batch_id, _source_row, 11 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value, 'is not a date (expected YYYY-MM-DD)' as reason
    from keyed where end_date_raw is not null and end_date is null
    union all
    select _batch_id, _source_row, 12 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value, 'is before the start date' as reason
    from keyed where end_date < start_date
    union all
    select _batch_id, _source_row, 13 as rule, 'next_review_due' as column_name,
        cast(next_review_due_raw as varchar) as value, 'is not a date (expected YYYY-MM-DD)' as reason
    from keyed where next_review_due_raw is not null and next_review_due is null
    union all
    select _batch_id, _source_row, 90 as rule, 'plan_id' as column_name,
        cast(plan_id as varchar) as value, 'repeats the plan id on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by plan_id, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
