-- grain: one row per landed row of plan_outcomes.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [outcome_id]
-- source: raw.canonical_plan_outcomes
-- school_checked: false
-- columns:
--   outcome_id: trim
--   plan_id: trim
--   area_of_need: trim
--   outcome_text: trim
--   target_date: uk_date
--   provision: trim
--   strategy_codes: trim
--   who: trim
--   how_often: trim
--   plan_version: integer
--   _plan_known: {sql: "coalesce(pl.plan_id is not null, false)"}
-- rules:
--   1: {lookup: plan_id, known: _plan_known, required: true, message: is not a plan in plans.csv}
--   10: {parse: target_date}
--   11: {parse: plan_version, min: 1}
--   12: {pattern: strategy_codes, regex: "^[A-Za-z0-9_.-]+(;[A-Za-z0-9_.-]+)*$",
--     message: "is not a list of strategy codes separated by semicolons"}
left join (
    select distinct plan_id from staging.stg_canonical_plans where _reject_reason is null
) as pl on pl.plan_id = p.plan_id
