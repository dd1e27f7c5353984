-- grain: one row per accepted version of an action (its first agreement, then each status change)
-- unique_key: [action_key, version_number]
-- incremental:
--   by: pupil_key
-- not_null: [action_key, version_number, pupil_key, school_urn, batch_id, status, is_current]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   status: [open, done, cancelled]
-- Every accepted row of an action, numbered in the order the batches landed (version_number 1
-- is the first), so a page can show who agreed it, who marked it done or cancelled or
-- reopened it, and when. The current version is core.fct_action's row.
select
    school_urn || ':' || action_id as action_key,
    row_number() over (
        partition by school_urn, action_id order by _batch_id, _source_row, _source_item
    ) as version_number,
    action_id,
    pupil_key,
    school_urn,
    _batch_id as batch_id,
    coalesce(nullif(status, ''), case when completed_on is not null then 'done' else 'open' end) as status,
    nullif(status_by, '') as status_by,
    try_cast(status_at as timestamp) as status_at,
    nullif(owner, '') as owner,
    due_date,
    nullif(raised_by, '') as raised_by,
    _is_current as is_current
from staging.stg_canonical_actions
where _reject_reason is null
