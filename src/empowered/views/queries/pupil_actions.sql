-- grain: one row per action agreed for one pupil
select
    a.action_key, a.school_urn, a.raised_on, a.source, a.description, a.owner_role,
    a.due_date, a.completed_on, a.is_open, a.kind, a.owner, a.status, a.status_at,
    a.batch_id
from core.fct_action as a
where a.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, a.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, a.pupil_key))
order by a.raised_on, a.action_key
