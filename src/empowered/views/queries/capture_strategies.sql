-- grain: one row per strategy in the trust's catalogue, in the order the capture form lists them
select strategy_code, strategy_name
from core.dim_strategy
order by strategy_name, strategy_code
