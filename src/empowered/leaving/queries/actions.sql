-- grain: one row per action agreed in the app at $school, as it stands (current row)
select
    a.action_id, a.pupil_key, a.ref as agreed_at, a.kind, a.description, a.owner,
    a.owner_role, a.due_date, a.status, a.status_by, a.status_at, a.completed_on,
    a.raised_on, a.raised_by
from staging.stg_canonical_actions as a
where a._is_current and a.school_urn = $school
    and a._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by a.raised_on, a.action_id
