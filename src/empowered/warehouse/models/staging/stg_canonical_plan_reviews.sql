-- grain: one row per landed row of plan_reviews.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [review_id]
-- source: raw.canonical_plan_reviews
-- school_checked: false
-- columns:
--   review_id: trim
--   plan_id: trim
--   outcome_id: trim
--   review_date: uk_date
--   progress: lower
--   note: trim
--   meeting_id: trim
--   rating: integer
--   _plan_known: {sql: "coalesce(pl.plan_id is not null, false)"}
--   _outcome_known: {sql: "coalesce(po.outcome_id is not null, false)"}
--   _meeting_known: {sql: "coalesce(rm.meeting_id is not null, false)"}
-- rules:
--   1: {lookup: plan_id, known: _plan_known, required: true, message: is not a plan in plans.csv}
--   2: {lookup: outcome_id, known: _outcome_known, message: is not an outcome of this plan in plan_outcomes.csv}
--   3: {lookup: meeting_id, known: _meeting_known, message: is not a review meeting of this plan}
--   10: {required: review_date}
--   11: {allowed: progress, values: [not_started, some, good, achieved]}
--   12: {parse: rating, min: -2, max: 2}
--   13: {check: "coalesce(progress, '') = '' and rating_raw is null", column: progress,
--        message: "is missing: give the progress in words or as a rating from -2 to +2"}
-- An imported review gives progress in words (not_started .. achieved); a review held in
-- the app rates it from -2 (much less than expected) to +2 (much more than expected), the
-- scale Provision Map users know, and names its meeting. Either is a review.
left join (
    select distinct plan_id from staging.stg_canonical_plans where _reject_reason is null
) as pl on pl.plan_id = p.plan_id
left join (
    select distinct outcome_id, plan_id from staging.stg_canonical_plan_outcomes where _reject_reason is null
) as po on po.outcome_id = p.outcome_id and po.plan_id = p.plan_id
left join (
    select distinct meeting_id, plan_id from staging.stg_canonical_review_meetings where _reject_reason is null
) as rm on rm.meeting_id = p.meeting_id and rm.plan_id = p.plan_id
