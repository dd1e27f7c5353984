-- grain: one row per mood and engagement check-in of one pupil, newest first, at most $limit
select
    o.observation_id, o.school_urn, o.observed_on, o.observed_minute, o.activity, o.setting,
    o.mood, o.engagement, o.regulation, o.staff_id, o.batch_id
from core.fct_observation as o
where o.pupil_key = $pupil_key
    and o.observed_on <= $until
    and ($scope_schools is null or list_contains($scope_schools, o.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, o.pupil_key))
order by o.observed_on desc, o.observed_minute desc nulls last,
    o.school_urn desc, o.observation_id desc
limit $limit
