-- grain: one row if the pupil has been on roll at a school in scope, none otherwise
select e.pupil_key
from core.fct_enrolment as e
where e.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, e.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, e.pupil_key))
limit 1
