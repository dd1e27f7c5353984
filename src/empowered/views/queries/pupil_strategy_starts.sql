-- grain: one row per strategy used with one pupil: its first recorded use up to $until
select
    u.strategy_code,
    min(coalesce(u.strategy_name, u.strategy_code)) as strategy_name,
    min(u.used_on) as first_used_on,
    count(*) as uses
from marts.strategy_use_outcome as u
where u.pupil_key = $pupil_key
    and u.used_on <= $until
    and ($scope_schools is null or list_contains($scope_schools, u.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, u.pupil_key))
group by u.strategy_code
order by first_used_on, u.strategy_code
