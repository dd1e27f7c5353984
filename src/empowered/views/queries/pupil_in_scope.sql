-- grain: at most one row: the pupil, their school and that school's as-of date, when in scope
select p.pupil_key, p.school_urn, a.as_of_date
from core.dim_pupil as p
left join marts.school_as_of as a on a.school_urn = p.school_urn
where p.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, p.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, p.pupil_key))
