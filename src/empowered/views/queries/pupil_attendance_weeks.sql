-- grain: one row per school week of one pupil's attendance
select
    w.school_urn, w.academic_year, w.school_week, w.week_start, w.possible, w.present,
    w.unauthorised, w.attendance_rate
from marts.attendance_pupil_week as w
where w.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, w.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, w.pupil_key))
order by w.week_start, w.school_urn
