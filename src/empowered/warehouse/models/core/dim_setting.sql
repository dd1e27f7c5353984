-- grain: one row per setting (place) seen in the data or the catalogue
-- unique_key: [setting]
-- not_null: [setting, label, category]
-- Schools write settings their own way: unknown ones are kept, labelled as written.
with seen as (
    select setting from staging.stg_canonical_observations where _is_current
    union
    select setting from staging.stg_canonical_incidents where _is_current
    union
    select setting from staging.stg_canonical_strategy_uses where _is_current
    union
    select code from reference.setting
)

select
    s.setting,
    coalesce(a.label, s.setting) as label,
    coalesce(a.category, 'other') as category,
    a.code is not null as is_catalogued
from seen as s
left join reference.setting as a on a.code = s.setting
where s.setting is not null and s.setting <> ''
