-- grain: one row per pupil of $pupil_keys in scope (the children on a home page): year, SEN status and primary need for their card, no identity
select
    r.pupil_key, r.school_urn, r.year_group, r.sen_provision, r.primary_need
from marts.register_pupil as r
where list_contains($pupil_keys, r.pupil_key)
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
order by r.pupil_key, r.school_urn
