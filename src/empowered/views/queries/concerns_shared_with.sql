-- grain: one concern shared with the account $staff (an app-user-N reference) at a school in scope
select distinct c.concern_id, c.school_urn, c.pupil_key, c.concern_on, c.category
from core.fct_concern_event as e
inner join core.fct_concern as c on c.concern_key = e.concern_key
where e.event = 'shared' and e.staff = $staff
    and ($scope_schools is null or list_contains($scope_schools, c.school_urn))
order by c.concern_on desc, c.concern_id
