-- grain: one row per school per minute of the day (0-1439)
-- unique_key: [school_urn, minute_of_day]
-- not_null: [school_urn, minute_of_day, time_slot, in_school_hours, session]
-- relationships:
--   time_slot: core.dim_time_slot.time_slot
-- A lookup so that facts find their timetable period and time slot with an equality join
-- instead of a range join. Where periods overlap, the one that started last wins.
-- The school's hours run from the start of its first period to the end of its last (a
-- school with no timetable has none). A minute belongs to the AM register session before
-- the end of lunch (period LUN; noon if the timetable has none), and to PM from then on.
-- Exposure and the behaviour contexts count only the minutes in school hours.
with minutes as (
    select unnest(generate_series(0, 1439)) as minute_of_day
),

school_hours as (
    select
        school_urn,
        min(start_minute) as first_minute,
        max(end_minute) as last_minute,
        coalesce(max(case when period_code = 'LUN' then end_minute end), 720) as lunch_end
    from core.dim_period
    group by school_urn
),

candidates as (
    select
        s.school_urn,
        m.minute_of_day,
        p.period_code,
        row_number() over (
            partition by s.school_urn, m.minute_of_day
            order by p.start_minute desc, p.period_code
        ) as n
    from core.dim_school as s
    cross join minutes as m
    left join core.dim_period as p
        on p.school_urn = s.school_urn
        and m.minute_of_day >= p.start_minute and m.minute_of_day < p.end_minute
)

select
    c.school_urn,
    c.minute_of_day,
    c.minute_of_day // 30 as time_slot,
    c.period_code,
    coalesce(c.minute_of_day >= h.first_minute and c.minute_of_day < h.last_minute, false)
        as in_school_hours,
    case when c.minute_of_day < coalesce(h.lunch_end, 720) then 'AM' else 'PM' end as session
from candidates as c
left join school_hours as h on h.school_urn = c.school_urn
where c.n = 1
