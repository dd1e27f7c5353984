-- grain: one act of the designated safeguarding lead on one concern (acknowledged, shared), oldest first
select e.event, e.staff, e.recorded_by, e.recorded_at
from core.fct_concern_event as e
inner join core.fct_concern as c on c.concern_key = e.concern_key
where c.concern_id = $concern_id
    and ($scope_schools is null or list_contains($scope_schools, c.school_urn))
order by e.recorded_at, e.event_key
