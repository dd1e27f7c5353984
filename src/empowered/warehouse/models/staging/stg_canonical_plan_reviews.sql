-- grain: one row per landed row of plan_reviews.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select review_id, count(*) as n from staging.stg_canonical_plan_reviews
--       where _is_current group by review_id having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.review_id) as review_id,
        trim(r.plan_id) as plan_id,
        trim(r.outcome_id) as outcome_id,
        try_cast(trim(r.review_date) as date) as review_date,
        r.review_date as review_date_raw,
        lower(trim(r.progress)) as progress,
        trim(r.note) as note,
        coalesce(pl.plan_id is not null, false) as _plan_known,
        coalesce(po.outcome_id is not null, false) as _outcome_known
    from raw.canonical_plan_reviews as r
    left join (
        select distinct plan_id from staging.stg_canonical_plans where _reject_reason is null
    ) as pl on pl.plan_id = trim(r.plan_id)
    left join (
        select distinct outcome_id, plan_id from staging.stg_canonical_plan_outcomes where _reject_reason is null
    ) as po on po.outcome_id = trim(r.outcome_id) and po.plan_id = trim(r.plan_id)
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, review_id) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 1 as rule, 'plan_id' as column_name,
        cast(plan_id as varchar) as value, 'is not a plan in plans.csv' as reason
    from keyed where not _plan_known
    union all
    select _batch_id, _source_row, 2 as rule, 'outcome_id' as column_name,
        cast(outcome_id as varchar) as value, 'is not an outcome of this plan in plan_outcomes.csv' as reason
    from keyed where outcome_id is not null and outcome_id <> '' and not _outcome_known
    union all
    select _batch_id, _source_row, 10 as rule, 'review_date' as column_name,
        cast(review_date_raw as varchar) as value, 'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from keyed where review_date is null
    union all
    select _batch_id, _source_row, 11 as rule, 'progress' as column_name,
        cast(progress as varchar) as value, 'is not one of: not_started, some, good, achieved' as reason
    from keyed where progress is not null and progress not in ('not_started', 'some', 'good', 'achieved')
    union all
    select _batch_id, _source_row, 90 as rule, 'review_id' as column_name,
        cast(review_id as varchar) as value, 'repeats the review id on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by review_id, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
