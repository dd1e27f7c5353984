-- grain: one row per pupil in scope (as capture_pupil.sql for each of them): what a capture
-- names the pupil by, read for all of a member of staff's pupils at once.
-- The UPN goes only into the raw row (as an MIS export's would); it is never shown or logged.
select i.pupil_key, i.school_urn, i.upn, i.forename, i.surname, e.entry_date, e.leaving_date
from core.pupil_identity as i
left join core.fct_enrolment as e on e.pupil_key = i.pupil_key and e.school_urn = i.school_urn
where ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
