-- grain: one row per school in scope, with its as-of date
select s.school_urn, s.school_name, a.as_of_date
from core.dim_school as s
left join marts.school_as_of as a on a.school_urn = s.school_urn
where ($scope_schools is null or list_contains($scope_schools, s.school_urn))
order by s.school_urn
