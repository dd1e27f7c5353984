-- grain: at most one row: the pupil a capture is for, with what a landed row names them by
-- The UPN goes only into the raw row (as an MIS export's would); it is never shown or logged.
select i.pupil_key, i.school_urn, i.upn, i.forename, i.surname
from core.pupil_identity as i
where i.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
