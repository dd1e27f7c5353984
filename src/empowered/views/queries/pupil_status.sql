-- grain: at most one row per school: the pupil's row of the register on its as-of date
select r.*
from marts.register_pupil as r
where r.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
order by r.school_urn = $school_urn desc, r.school_urn
