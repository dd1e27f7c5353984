-- grain: one row per landed row of strategy_uses.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, use_id]
-- source: raw.canonical_strategy_uses
-- pupil_linked: true
-- columns:
--   use_id: trim
--   used_on: uk_date
--   used_minute: {minutes: used_time, raw: used_time_raw}
--   staff_id: trim
--   activity: lower
--   setting: lower
--   strategy_code: lower
--   outcome: lower
--   note: trim
--   _strategy_known: {sql: "coalesce(sc.strategy_code is not null, false)"}
-- rules:
--   10: {required: used_on}
--   11: {not_future: used_on}
--   12: {parse: used_minute}
--   13: {lookup: strategy_code, known: _strategy_known, required: true,
--        message: is not a strategy in the catalogue (strategies.csv)}
--   14: {allowed: outcome, values: [helped, partly, not_helped]}
--   19: {on_roll: used_on}
left join (
    select distinct strategy_code from staging.stg_canonical_strategies where _reject_reason is null
) as sc on sc.strategy_code = p.strategy_code
