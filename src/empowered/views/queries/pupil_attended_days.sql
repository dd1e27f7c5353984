-- grain: one row per school day one pupil was present for at least one session
select d.session_date
from marts.attendance_pupil_day as d
where d.pupil_key = $pupil_key
    and d.possible > d.absent
    and ($scope_schools is null or list_contains($scope_schools, d.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, d.pupil_key))
order by d.session_date
