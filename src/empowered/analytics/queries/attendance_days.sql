-- grain: one row per pupil per school day with at least one possible session
select
    a.pupil_key,
    a.school_urn,
    a.session_date,
    a.academic_year,
    a.possible,
    a.absent,
    a.unauthorised
from marts.attendance_pupil_day as a
where ($school_urn is null or a.school_urn = $school_urn)
    and ($pupil_key is null or a.pupil_key = $pupil_key)
order by a.school_urn, a.pupil_key, a.session_date
