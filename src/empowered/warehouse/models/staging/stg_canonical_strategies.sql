-- grain: one row per landed row of strategies.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [strategy_code]
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
        lower(trim(r.strategy_code)) as strategy_code,
        trim(r.strategy_name) as strategy_name,
        lower(trim(r.category)) as category
    from raw.canonical_strategies as r
),

issues as (
    select _batch_id, _source_row, _source_item, 1 as rule, 'strategy_code' as column_name,
        cast(strategy_code as varchar) as value,
        'is missing' as reason
    from typed where strategy_code is null or strategy_code = ''
    union all
    select _batch_id, _source_row, _source_item, 2 as rule, 'strategy_name' as column_name,
        cast(strategy_name as varchar) as value,
        'is missing' as reason
    from typed where strategy_name is null or strategy_name = ''
)
