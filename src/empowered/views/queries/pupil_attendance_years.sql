-- grain: one row per academic year (per school) of one pupil's attendance
-- From the session marks, or from the summaries the school sent for a year without marks.
select
    y.school_urn, y.academic_year, y.possible, y.present, y.authorised, y.unauthorised,
    y.attendance_rate, y.persistent_absence, y.severe_absence, y.attendance_rate_last_6_weeks,
    y.attendance_source, y.attendance_source_text
from marts.attendance_pupil_year_all as y
where y.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, y.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, y.pupil_key))
order by y.academic_year desc, y.school_urn
