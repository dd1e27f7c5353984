-- grain: one row per action (its current version) at $schools (null: every school), owned
-- by $owner (null: anyone), about $pupil_key (null: any pupil), or the one action
-- $action_key; with the pupil's encrypted name
-- (empowered.identity makes the name, only for scopes that may see it)
select
    a.action_key, a.action_id, a.pupil_key, a.school_urn, a.raised_on, a.source,
    a.description, a.owner_role, a.due_date, a.completed_on, a.kind, a.owner, a.status,
    a.status_by, a.status_at, a.raised_by, a.ref, a.is_open, i.forename, i.surname
from core.fct_action as a
left join core.pupil_identity as i on i.pupil_key = a.pupil_key and i.school_urn = a.school_urn
where ($schools is null or list_contains($schools, a.school_urn))
    and ($owner is null or a.owner = $owner)
    and ($pupil_key is null or a.pupil_key = $pupil_key)
    and ($action_key is null or a.action_key = $action_key)
order by a.is_open desc, a.due_date nulls last, a.raised_on, a.action_key
