-- grain: one row per review of a plan outcome
-- unique_key: [review_id]
-- not_null: [review_id, plan_id, pupil_key, review_date]
-- relationships:
--   plan_id: core.fct_plan.plan_id
--   outcome_id: core.fct_plan_outcome.outcome_id
-- accepted_values:
--   progress: [not_started, some, good, achieved]
-- progress_score orders the progress words 0-3 so reviews can be compared over time; a
-- review held in the app rates progress from -2 to +2 instead (rating) and names its
-- meeting (core.fct_review_meeting).
select
    r.review_id,
    r.plan_id,
    nullif(r.outcome_id, '') as outcome_id,
    p.pupil_key,
    p.school_urn,
    r.review_date,
    r.progress,
    case r.progress when 'not_started' then 0 when 'some' then 1 when 'good' then 2
        when 'achieved' then 3 end as progress_score,
    nullif(r.note, '') as note,
    nullif(r.meeting_id, '') as meeting_id,
    r.rating,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    r._batch_id as batch_id
from staging.stg_canonical_plan_reviews as r
inner join core.fct_plan as p on p.plan_id = r.plan_id
where r._is_current
