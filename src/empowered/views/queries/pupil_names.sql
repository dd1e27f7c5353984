-- grain: one row per pupil of $pupil_keys in scope: the name staff know them by (only ever
-- run for identified scopes; encrypted, empowered.identity makes the name)
select i.pupil_key, i.forename, i.surname
from core.pupil_identity as i
where list_contains($pupil_keys, i.pupil_key)
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
