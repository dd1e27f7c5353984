-- grain: one row per landed record of a step of an EHC plan's annual review done, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [step_id]
-- source: raw.canonical_ehc_review_steps
-- columns:
--   step_id: trim
--   plan_id: trim
--   step: lower
--   done_on: uk_date
--   recorded_by: trim
--   recorded_at: trim
--   _plan_known: {sql: "coalesce(pl.plan_id is not null, false)"}
-- rules:
--   1: {lookup: plan_id, known: _plan_known, required: true, message: is not an EHC plan of this school}
--   10: {allowed: step, required: true, values: [advice_requested, papers_sent, report_sent]}
--   11: {required: done_on}
--   12: {not_future: done_on}
-- Recorded in the app (empowered.reviews): advice requested and papers circulated before
-- an EHC plan's annual review meeting, the review report sent after it (SEND Regulations
-- 2014, reg 20). Only an EHC plan of the step's own school has these steps.
left join (
    select distinct plan_id, school_urn from staging.stg_canonical_plans
    where _reject_reason is null and plan_type = 'ehc_plan'
) as pl on pl.plan_id = p.plan_id and pl.school_urn = p.school_urn
