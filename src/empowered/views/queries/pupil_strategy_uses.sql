-- grain: one row per use of a strategy with one pupil, newest first, at most $limit
select
    u.use_key, u.school_urn, u.used_on, u.used_minute, u.strategy_code, u.strategy_name,
    u.activity, u.setting, u.outcome, u.batch_id
from marts.strategy_use_outcome as u
where u.pupil_key = $pupil_key
    and u.used_on <= $until
    and ($scope_schools is null or list_contains($scope_schools, u.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, u.pupil_key))
order by u.used_on desc, u.used_minute desc nulls last, u.use_key desc
limit $limit
