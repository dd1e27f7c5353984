-- grain: at most one row: the restricted identity of one pupil (only for identified scopes)
-- Encrypted: views.pupil decrypts it through empowered.identity.
select i.forename, i.surname, i.upn, i.date_of_birth
from core.pupil_identity as i
where i.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
