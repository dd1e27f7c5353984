-- grain: one row per action agreed for a pupil (from a review, a trigger, a meeting, the register, the pupil's page or a plan)
-- unique_key: [action_key]
-- incremental:
--   by: pupil_key
-- not_null: [action_key, pupil_key, school_urn, raised_on, status, is_open]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   status: [open, done, cancelled]
-- An imported row has no status: it is done once it has a completed_on, open until then.
-- An action agreed in the app carries its own (open, done or cancelled, with who set it
-- and when); done_on is the day it was marked done, or the imported completed_on.
-- "Overdue" (an open action past its due date) depends on the day it is read, not on the
-- day the warehouse was built, so the pages judge it against today from is_open and
-- due_date: a stored flag would go stale for every pupil the next build does not touch.
select
    school_urn || ':' || action_id as action_key,
    action_id,
    pupil_key,
    school_urn,
    raised_on,
    source,
    description,
    owner_role,
    due_date,
    coalesce(completed_on, case when status = 'done' then cast(try_cast(status_at as timestamp) as date) end) as completed_on,
    nullif(kind, '') as kind,
    nullif(owner, '') as owner,
    coalesce(nullif(status, ''), case when completed_on is not null then 'done' else 'open' end) as status,
    nullif(status_by, '') as status_by,
    try_cast(status_at as timestamp) as status_at,
    nullif(raised_by, '') as raised_by,
    nullif(ref, '') as ref,
    coalesce(nullif(status, ''), case when completed_on is not null then 'done' else 'open' end) = 'open' as is_open,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    _batch_id as batch_id
from staging.stg_canonical_actions
where _is_current
