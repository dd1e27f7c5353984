-- grain: one row per ABC behaviour incident at one school of pupils in scope, on or after
-- $since (for the time-slot scatterplot and the time-slot x weekday table)
select i.pupil_key, i.occurred_on, i.time_slot, i.iso_weekday
from marts.behaviour_incident as i
where i.school_urn = $school_urn
    and i.occurred_on >= cast($since as date)
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
order by i.occurred_on, i.time_slot, i.pupil_key
