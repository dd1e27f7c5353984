-- grain: one row per landed row of actions.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, action_id, count(*) as n from staging.stg_canonical_actions
--       where _is_current group by school_urn, action_id having count(*) > 1
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
        trim(r.action_id) as action_id,
        try_cast(trim(r.raised_on) as date) as raised_on,
        r.raised_on as raised_on_raw,
        lower(trim(r.source)) as source,
        trim(r.description) as description,
        lower(trim(r.owner_role)) as owner_role,
        try_cast(trim(r.due_date) as date) as due_date,
        r.due_date as due_date_raw,
        try_cast(trim(r.completed_on) as date) as completed_on,
        r.completed_on as completed_on_raw
    from raw.canonical_actions as r
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
        min(_source_row) over (partition by _batch_id, school_urn, action_id) as _first_row_with_key
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
    select _batch_id, _source_row, 10 as rule, 'raised_on' as column_name,
        cast(raised_on_raw as varchar) as value, 'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from keyed where raised_on is null
    union all
    select _batch_id, _source_row, 11 as rule, 'due_date' as column_name,
        cast(due_date_raw as varchar) as value, 'is not a date (expected YYYY-MM-DD)' as reason
    from keyed where due_date_raw is not null and due_date is null
    union all
    select _batch_id, _source_row, 12 as rule, 'completed_on' as column_name,
        cast(completed_on_raw as varchar) as value, 'is not a date (expected YYYY-MM-DD)' as reason
    from keyed where completed_on_raw is not null and completed_on is null
    union all
    select _batch_id, _source_row, 13 as rule, 'source' as column_name,
        cast(source as varchar) as value, 'is not one of: review, trigger, meeting' as reason
    from keyed where source is not null and source not in ('review', 'trigger', 'meeting')
    union all
    select _batch_id, _source_row, 90 as rule, 'action_id' as column_name,
        cast(action_id as varchar) as value, 'repeats the action id on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by school_urn, action_id, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
