-- grain: one row per outcome rated at a review held in the app on a plan of $school
--   (current row), with the outcome's words
with plans as (
    select plan_id, pupil_key
    from staging.stg_canonical_plans
    where _is_current and school_urn = $school
),

outcomes as (
    select outcome_id, outcome_text
    from staging.stg_canonical_plan_outcomes
    where _is_current
)

select
    r.review_id, r.meeting_id, r.plan_id, p.pupil_key, r.review_date, r.outcome_id,
    o.outcome_text as outcome, r.rating, r.progress, r.note
from staging.stg_canonical_plan_reviews as r
inner join plans as p on p.plan_id = r.plan_id
left join outcomes as o on o.outcome_id = r.outcome_id
where r._is_current
    and r._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by r.review_date, r.meeting_id, r.review_id
