-- grain: one row per pupil of $pupil_keys in scope: the name staff know them by (only ever
-- run for identified scopes)
select i.pupil_key, concat_ws(' ', i.forename, i.surname) as name
from core.pupil_identity as i
where list_contains($pupil_keys, i.pupil_key)
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
