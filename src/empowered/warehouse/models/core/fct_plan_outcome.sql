-- grain: one row per outcome written into a plan, with its latest reviewed progress
-- unique_key: [outcome_id]
-- not_null: [outcome_id, plan_id, pupil_key, in_plan]
-- relationships:
--   plan_id: core.fct_plan.plan_id
--   pupil_key: core.dim_pupil.pupil_key
with latest as (
    select
        outcome_id,
        progress,
        review_date,
        row_number() over (
            partition by outcome_id order by review_date desc, _batch_id desc, _source_row desc
        ) as n
    from staging.stg_canonical_plan_reviews
    where _is_current and outcome_id is not null and outcome_id <> ''
)

select
    o.outcome_id,
    o.plan_id,
    p.pupil_key,
    p.school_urn,
    o.area_of_need,
    o.outcome_text,
    o.target_date,
    l.progress as latest_progress,
    l.review_date as latest_review_date,
    o.provision,
    o.strategy_codes,
    o.who,
    o.how_often,
    o.plan_version,
    -- Whether the outcome is in the plan as it stands: a plan kept in the app (versioned)
    -- holds the outcomes saved with its latest version; one left out of an edit keeps its
    -- row here (its reviews still point at it) but is no longer the plan's.
    (p.plan_version is null or coalesce(o.plan_version = p.plan_version, false)) as in_plan
from staging.stg_canonical_plan_outcomes as o
inner join core.fct_plan as p on p.plan_id = o.plan_id
left join latest as l on l.outcome_id = o.outcome_id and l.n = 1
where o._is_current
