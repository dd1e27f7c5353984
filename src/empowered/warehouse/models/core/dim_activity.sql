-- grain: one row per activity (lesson or part of the day) seen in the data or the catalogue
-- unique_key: [activity]
-- not_null: [activity, label, category]
-- Schools write activities their own way: unknown ones are kept, labelled as written.
with seen as (
    select activity from staging.stg_canonical_observations where _is_current
    union
    select activity from staging.stg_canonical_incidents where _is_current
    union
    select activity from staging.stg_canonical_strategy_uses where _is_current
    union
    select code from reference.activity
)

select
    s.activity,
    coalesce(a.label, s.activity) as label,
    coalesce(a.category, 'other') as category,
    a.code is not null as is_catalogued
from seen as s
left join reference.activity as a on a.code = s.activity
where s.activity is not null and s.activity <> ''
