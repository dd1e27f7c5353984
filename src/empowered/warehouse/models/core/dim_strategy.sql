-- grain: one row per support or calming strategy in the trust's catalogue
-- unique_key: [strategy_code]
-- not_null: [strategy_code, strategy_name]
select
    strategy_code,
    strategy_name,
    coalesce(category, 'other') as category
from staging.stg_canonical_strategies
where _is_current
