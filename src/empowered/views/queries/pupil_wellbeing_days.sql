-- grain: one row per school day with a check-in of one pupil, from $since to $until
-- The daily averages the pupil page looks back over for lasting changes (changepoints)
-- and compares either side of a strategy's first use.
select d.school_urn, d.observed_on, d.mood_mean, d.engagement_mean
from marts.wellbeing_pupil_day as d
where d.pupil_key = $pupil_key
    and d.observed_on between $since and $until
    and ($scope_schools is null or list_contains($scope_schools, d.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, d.pupil_key))
order by d.observed_on, d.school_urn
