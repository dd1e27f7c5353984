-- grain: one row per 30-minute slot of the day (48 slots), for time-of-day scatterplots
-- unique_key: [time_slot]
-- not_null: [time_slot, start_minute, end_minute, label]
with slots as (
    select unnest(generate_series(0, 47)) as time_slot
)

select
    time_slot,
    time_slot * 30 as start_minute,
    time_slot * 30 + 30 as end_minute,
    lpad(cast(time_slot // 2 as varchar), 2, '0') || ':' || lpad(cast((time_slot % 2) * 30 as varchar), 2, '0')
        as label
from slots
