-- grain: one row per (group, pupil) of the groups asked for ($groups at $school_urn), pupils in scope only
select distinct m.group_code, m.pupil_key
from core.bridge_group_member as m
where m.school_urn = $school_urn
    and list_contains($groups, m.group_code)
    and ($scope_schools is null or list_contains($scope_schools, m.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, m.pupil_key))
order by m.group_code, m.pupil_key
