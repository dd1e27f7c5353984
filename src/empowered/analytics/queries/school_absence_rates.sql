-- grain: one row per school: its overall and unauthorised absence rates (the early-sign priors)
select
    a.school_urn,
    sum(a.absent) / cast(sum(a.possible) as double) as absence_rate,
    sum(a.unauthorised) / cast(sum(a.possible) as double) as unauthorised_rate
from marts.attendance_pupil_day as a
where ($school_urn is null or a.school_urn = $school_urn)
group by a.school_urn
having sum(a.possible) > 0
order by a.school_urn
