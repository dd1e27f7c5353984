-- grain: one row per landed row of strategies.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select strategy_code, count(*) as n from staging.stg_canonical_strategies
--       where _is_current group by strategy_code having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        lower(trim(r.strategy_code)) as strategy_code,
        trim(r.strategy_name) as strategy_name,
        lower(trim(r.category)) as category
    from raw.canonical_strategies as r
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, strategy_code) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 1 as rule, 'strategy_code' as column_name,
        cast(strategy_code as varchar) as value, 'is missing' as reason
    from keyed where strategy_code is null or strategy_code = ''
    union all
    select _batch_id, _source_row, 2 as rule, 'strategy_name' as column_name,
        cast(strategy_name as varchar) as value, 'is missing' as reason
    from keyed where strategy_name is null or strategy_name = ''
    union all
    select _batch_id, _source_row, 90 as rule, 'strategy_code' as column_name,
        cast(strategy_code as varchar) as value, 'repeats the strategy on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by strategy_code, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
