-- grain: one row per step of an EHC plan's annual review recorded in the app at $school
--   (current row)
with plans as (
    select plan_id, pupil_key
    from staging.stg_canonical_plans
    where _is_current and school_urn = $school
)

select
    s.step_id, s.plan_id, p.pupil_key, s.step, s.done_on, s.recorded_by, s.recorded_at
from staging.stg_canonical_ehc_review_steps as s
inner join plans as p on p.plan_id = s.plan_id
where s._is_current
    and s._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by s.done_on, s.step_id
