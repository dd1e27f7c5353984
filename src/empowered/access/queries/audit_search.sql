-- grain: one row per audit entry matching the search, newest first, with the total matched
-- $schools null: the whole trust. Otherwise a school's entries: those made by its own staff,
-- and those made by trust-level accounts (no school; the command line too) about a pupil
-- who is or was on its roll. {school_pupils} is a subquery of (pupil_key) for $schools.
select
    a.event_id,
    a."at",
    a.user_id,
    a.username,
    a.role,
    a.event,
    a.pupil_key,
    a.page,
    a.detail,
    a.ip,
    count(*) over () as total
from app.audit_log as a
left join app.users as u on u.user_id = a.user_id
where (
        $schools is null
        or list_contains($schools, u.school_urn)
        or (u.school_urn is null and a.pupil_key in ({school_pupils}))
    )
    and ($username is null or contains(lower(a.username), lower($username)))
    and ($pupil_key is null or a.pupil_key = $pupil_key)
    and ($event is null or a.event = $event)
    and ($since is null or a."at" >= $since)
    and ($before is null or a."at" < $before)
order by a.event_id desc
limit $limit offset $offset
