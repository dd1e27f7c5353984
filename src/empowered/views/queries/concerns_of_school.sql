-- grain: one safeguarding concern of the schools in scope, with whether it was acknowledged
-- and the accounts it was shared with; newest first. Words stay encrypted here: the view
-- service decrypts them only for a reader the policy allows.
select
    c.concern_id, c.school_urn, c.pupil_key, c.concern_on, c.concern_minute, c.place,
    c.category, c.concern_text, c.people_present, c.recorded_by, c.recorded_at,
    coalesce(bool_or(e.event = 'acknowledged'), false) as acknowledged,
    list(e.staff order by e.recorded_at) filter (where e.event = 'shared') as shared_with
from core.fct_concern as c
left join core.fct_concern_event as e on e.concern_key = c.concern_key
where ($scope_schools is null or list_contains($scope_schools, c.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, c.pupil_key))
    and ($concern_id is null or c.concern_id = $concern_id)
group by all
order by c.concern_on desc, c.concern_minute desc nulls last, c.concern_id
