-- grain: one row per support plan or Education, Health and Care (EHC) plan
-- unique_key: [plan_id]
-- not_null: [plan_id, pupil_key, school_urn, plan_type, start_date]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   plan_type: [sen_support_plan, ehc_plan]
--   status: [draft, agreed]
with reviews as (
    select plan_id, max(review_date) as last_review_date, count(distinct review_date) as reviews
    from staging.stg_canonical_plan_reviews
    where _is_current
    group by plan_id
)

select
    p.plan_id,
    p.pupil_key,
    p.school_urn,
    p.plan_type,
    p.start_date,
    p.end_date,
    p.end_date is null as is_active,
    p.next_review_due,
    r.last_review_date,
    coalesce(r.reviews, 0) as review_count,
    -- What a plan written in the app holds (null for an imported plan without them).
    p.strengths,
    p.needs_communication,
    p.needs_cognition,
    p.needs_semh,
    p.needs_sensory,
    p.important_to_me,
    p.how_to_support,
    p.plan_version,
    p.status,
    p.agreed_on,
    p.agreed_by,
    p.agreed_with,
    p.saved_by,
    p.saved_at
from staging.stg_canonical_plans as p
left join reviews as r on r.plan_id = p.plan_id
where p._is_current
