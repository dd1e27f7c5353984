-- grain: one row per accepted outcome row saved with a version of a plan written in the
--   app at $school (an outcome kept across versions has a row per version)
with plans as (
    select plan_id, pupil_key
    from staging.stg_canonical_plans
    where _is_current and school_urn = $school
)

select
    o.outcome_id, o.plan_id, o.plan_version, p.pupil_key, o.area_of_need, o.outcome_text,
    o.target_date, o.provision, o.strategy_codes as strategies, o.who, o.how_often
from staging.stg_canonical_plan_outcomes as o
inner join plans as p on p.plan_id = o.plan_id
where o._reject_reason is null
    and o._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by o.plan_id, o.plan_version, o._batch_id, o._source_row
