-- grain: one row per school per minute of the day (0-1439)
-- unique_key: [school_urn, minute_of_day]
-- not_null: [school_urn, minute_of_day, time_slot]
-- relationships:
--   time_slot: core.dim_time_slot.time_slot
-- A lookup so that facts find their timetable period and time slot with an equality join
-- instead of a range join. Where periods overlap, the one that started last wins.
with minutes as (
    select unnest(generate_series(0, 1439)) as minute_of_day
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
    school_urn,
    minute_of_day,
    minute_of_day // 30 as time_slot,
    period_code
from candidates
where n = 1
