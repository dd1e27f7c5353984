-- grain: one row per school day of one school, the latest $days days up to $as_of
select c.date_day
from core.dim_school_calendar as c
where c.school_urn = $school_urn
    and c.is_school_day
    and c.date_day <= $as_of
order by c.date_day desc
limit $days
