-- grain: at most one row: the pupil a capture is for, with what a landed row names them by
-- The UPN goes only into the raw row (as an MIS export's would); it is never shown or logged.
-- entry_date and leaving_date: the time on roll a capture's day must fall in (staging rule 19).
select i.pupil_key, i.school_urn, i.upn, i.forename, i.surname, e.entry_date, e.leaving_date
from core.pupil_identity as i
left join core.fct_enrolment as e on e.pupil_key = i.pupil_key and e.school_urn = i.school_urn
where i.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
