-- grain: one row per outcome of a pupil's current plan per catalogue strategy named for it
-- unique_key: [outcome_id, strategy_code]
-- not_null: [outcome_id, plan_id, pupil_key, school_urn, strategy_code, strategy_name, uses]
-- relationships:
--   outcome_id: core.fct_plan_outcome.outcome_id
--   pupil_key: core.dim_pupil.pupil_key
--   strategy_code: core.dim_strategy.strategy_code
-- With how often the strategy has been used with the pupil. The plan names its strategies by catalogue code, several to an outcome separated by ";";
-- a code is matched whole (";a;b;" holds ";b;"), and one no longer in the catalogue drops
-- out. The uses and calmer counts are the same as strategy_pupil_summary's, so "what helps"
-- for the pupil can be read against what the plan says should be used.
select
    o.outcome_id,
    o.plan_id,
    o.pupil_key,
    o.school_urn,
    o.area_of_need,
    s.strategy_code,
    s.strategy_name,
    coalesce(u.uses, 0) as uses,
    coalesce(u.uses_with_mood_change, 0) as uses_with_mood_change,
    coalesce(u.calmer_count, 0) as calmer_count,
    u.last_used_on
from core.fct_plan_outcome as o
inner join core.dim_strategy as s
    on instr(';' || o.strategy_codes || ';', ';' || s.strategy_code || ';') > 0
left join marts.strategy_pupil_summary as u
    on u.pupil_key = o.pupil_key and u.school_urn = o.school_urn
    and u.strategy_code = s.strategy_code
where o.in_plan and o.strategy_codes is not null and o.strategy_codes <> ''
