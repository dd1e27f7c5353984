-- grain: one row per landed row of plan_outcomes.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select outcome_id, count(*) as n from staging.stg_canonical_plan_outcomes
--       where _is_current group by outcome_id having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.outcome_id) as outcome_id,
        trim(r.plan_id) as plan_id,
        trim(r.area_of_need) as area_of_need,
        trim(r.outcome_text) as outcome_text,
        try_cast(trim(r.target_date) as date) as target_date,
        r.target_date as target_date_raw,
        coalesce(pl.plan_id is not null, false) as _plan_known
    from raw.canonical_plan_outcomes as r
    left join (
        select distinct plan_id from staging.stg_canonical_plans where _reject_reason is null
    ) as pl on pl.plan_id = trim(r.plan_id)
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, outcome_id) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 1 as rule, 'plan_id' as column_name,
        cast(plan_id as varchar) as value, 'is not a plan in plans.csv' as reason
    from keyed where not _plan_known
    union all
    select _batch_id, _source_row, 10 as rule, 'target_date' as column_name,
        cast(target_date_raw as varchar) as value, 'is not a date (expected YYYY-MM-DD)' as reason
    from keyed where target_date_raw is not null and target_date is null
    union all
    select _batch_id, _source_row, 90 as rule, 'outcome_id' as column_name,
        cast(outcome_id as varchar) as value, 'repeats the outcome id on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by outcome_id, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
