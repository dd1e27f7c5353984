-- grain: one row per support plan or Education, Health and Care (EHC) plan
-- unique_key: [plan_id]
-- not_null: [plan_id, pupil_key, school_urn, plan_type, start_date, review_due_on]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   plan_type: [sen_support_plan, ehc_plan]
--   status: [draft, agreed]
-- review_due_on is when the plan's next review falls due, from the latest review actually
-- held (issue 13: the imported next_review_due alone called reviewed plans overdue):
--   1. the next review date the latest held review meeting set, if it set one;
--   2. else the plan's own next_review_due, if no review was held or it falls after the
--      latest held review (a date recorded after that review, so the one agreed there);
--   3. else the latest held review + the review interval;
--   4. else the plan's start + the review interval.
-- The interval: an EHC plan is reviewed at least every 12 months (SEND Regulations 2014,
-- reg 20); a support plan each term, as the Code of Practice expects parents to be met at
-- least three times a year (6.65, 6.72-6.77): 4 months, a school year's third.
-- A review is held when a review meeting (review_meetings) or an outcome's progress
-- (plan_reviews, as imported) is recorded for the plan on that day.
with outcome_reviews as (
    select plan_id, max(review_date) as last_review_date, count(distinct review_date) as reviews
    from staging.stg_canonical_plan_reviews
    where _is_current
    group by plan_id
),

meetings as (
    select
        plan_id,
        held_on,
        next_review_due,
        row_number() over (
            partition by plan_id order by held_on desc, _batch_id desc, _source_row desc
        ) as n
    from staging.stg_canonical_review_meetings
    where _is_current
),

reviews as (
    select
        coalesce(o.plan_id, m.plan_id) as plan_id,
        o.last_review_date,
        o.reviews,
        m.held_on as last_meeting_on,
        m.next_review_due as meeting_next_review_due,
        greatest(coalesce(o.last_review_date, m.held_on), coalesce(m.held_on, o.last_review_date))
            as last_held_review_on
    from outcome_reviews as o
    full outer join (select * from meetings where n = 1) as m on m.plan_id = o.plan_id
),

plans as (
    select
        p.*,
        r.last_review_date,
        r.reviews,
        r.last_held_review_on,
        r.last_meeting_on,
        r.meeting_next_review_due,
        case when p.plan_type = 'ehc_plan' then 12 else 4 end as interval_months
    from staging.stg_canonical_plans as p
    left join reviews as r on r.plan_id = p.plan_id
    where p._is_current
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
    p.last_review_date,
    coalesce(p.reviews, 0) as review_count,
    p.last_held_review_on,
    case
        when p.meeting_next_review_due is not null
            and p.last_meeting_on = p.last_held_review_on
            then p.meeting_next_review_due
        when p.next_review_due is not null
            and (p.last_held_review_on is null or p.next_review_due > p.last_held_review_on)
            then p.next_review_due
        when p.last_held_review_on is not null and p.interval_months = 12
            then cast(p.last_held_review_on + interval 12 month as date)
        when p.last_held_review_on is not null
            then cast(p.last_held_review_on + interval 4 month as date)
        when p.interval_months = 12 then cast(p.start_date + interval 12 month as date)
        else cast(p.start_date + interval 4 month as date)
    end as review_due_on,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    p._batch_id as batch_id,
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
from plans as p
