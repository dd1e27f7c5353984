-- grain: one row per plan review meeting held (the latest version of each)
-- unique_key: [meeting_id]
-- not_null: [meeting_id, plan_id, pupil_key, school_urn, held_on]
-- relationships:
--   plan_id: core.fct_plan.plan_id
--   pupil_key: core.dim_pupil.pupil_key
-- The views and the discussion are the words staff typed; held_by is an account
-- reference (app-user-N), turned into a username only by the app.
select
    m.meeting_id,
    m.plan_id,
    p.pupil_key,
    p.school_urn,
    p.plan_type,
    m.held_on,
    nullif(m.held_by, '') as held_by,
    nullif(m.attended, '') as attended,
    m.parents_met,
    nullif(m.pupil_views, '') as pupil_views,
    nullif(m.parent_views, '') as parent_views,
    nullif(m.parent_discussion, '') as parent_discussion,
    nullif(m.changes, '') as changes,
    nullif(m.next_steps, '') as next_steps,
    m.next_review_due,
    m._batch_id as batch_id
from staging.stg_canonical_review_meetings as m
inner join core.fct_plan as p on p.plan_id = m.plan_id
where m._is_current
