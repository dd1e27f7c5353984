-- grain: one row per pupil per school per summary period counted where the pupil has no session marks that year
select
    p.pupil_key,
    p.school_urn,
    p.academic_year,
    p.period_start,
    p.period_end,
    p.possible,
    p.absent
from marts.attendance_summary_period as p
where ($school_urn is null or p.school_urn = $school_urn)
    and ($pupil_key is null or p.pupil_key = $pupil_key)
order by p.school_urn, p.pupil_key, p.period_end, p.period_start
