-- grain: one row per school with summary periods: its absence rate over them (the prior of the summaries' early sign)
select
    p.school_urn,
    sum(p.absent) / cast(sum(p.possible) as double) as absence_rate
from marts.attendance_summary_period as p
where ($school_urn is null or p.school_urn = $school_urn)
group by p.school_urn
having sum(p.possible) > 0
order by p.school_urn
