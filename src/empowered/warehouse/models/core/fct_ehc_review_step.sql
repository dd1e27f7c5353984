-- grain: one row per step of an EHC plan's annual review recorded as done
-- unique_key: [step_id]
-- not_null: [step_id, plan_id, pupil_key, school_urn, step, done_on]
-- relationships:
--   plan_id: core.fct_plan.plan_id
-- accepted_values:
--   step: [advice_requested, papers_sent, report_sent]
select
    s.step_id,
    s.plan_id,
    p.pupil_key,
    p.school_urn,
    s.step,
    s.done_on,
    nullif(s.recorded_by, '') as recorded_by
from staging.stg_canonical_ehc_review_steps as s
inner join core.fct_plan as p on p.plan_id = s.plan_id
where s._is_current
