-- grain: one row per 30-minute time slot inside one school's timetabled day
-- The day runs from the first period's start to the last period's end (dim_period);
-- a school with no periods recorded gets 08:30-15:30.
with day as (
    select
        coalesce(min(p.start_minute), 510) as first_minute,
        coalesce(max(p.end_minute), 930) as last_minute
    from core.dim_period as p
    where p.school_urn = $school_urn
)
select t.time_slot, t.label
from core.dim_time_slot as t
cross join day as d
where t.end_minute > d.first_minute and t.start_minute < d.last_minute
order by t.time_slot
