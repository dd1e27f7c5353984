-- grain: one row per term (per school and academic year) of one pupil's attendance
select
    t.school_urn, t.academic_year, t.term, t.term_start, t.term_end, t.possible, t.present,
    t.authorised, t.unauthorised, t.attendance_rate, t.persistent_absence, t.severe_absence
from marts.attendance_pupil_term as t
where t.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, t.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, t.pupil_key))
order by t.term_start, t.school_urn
