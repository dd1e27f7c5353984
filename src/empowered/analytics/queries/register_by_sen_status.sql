-- grain: one row per SEN status (E, K, N) among the pupils on roll at one school ($school_urn;
-- NULL = the whole trust): how many, how many eligible for free school meals, for the pupil
-- premium, with English as an additional language, and their attendance this year so far
-- (sessions possible and missed, and persistent absentees: 10% or more missed)
select
    r.sen_provision,
    count(*) as pupils,
    count(*) filter (where r.fsm) as fsm,
    count(*) filter (where r.pupil_premium) as pupil_premium,
    count(*) filter (where r.is_eal) as eal,
    count(*) filter (where r.sessions_possible > 0) as pupils_with_attendance,
    coalesce(sum(r.sessions_possible) filter (where r.sessions_possible > 0), 0)
        as sessions_possible,
    coalesce(
        sum(r.sessions_possible - r.sessions_present) filter (where r.sessions_possible > 0), 0
    ) as sessions_missed,
    count(*) filter (where r.sessions_possible > 0 and r.persistent_absence) as persistent
from marts.register_pupil as r
where ($school_urn is null or r.school_urn = $school_urn)
group by r.sen_provision
order by r.sen_provision
