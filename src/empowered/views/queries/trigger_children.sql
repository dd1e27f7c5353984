-- grain: one row per pupil of $pupil_keys at one school in scope: their year and SEN status
-- for the DSL's queue by child, with the name (encrypted) only for identified scopes
select
    r.pupil_key,
    r.year_group,
    r.sen_provision,
    case when $identified then i.forename end as forename,
    case when $identified then i.surname end as surname
from marts.register_pupil as r
left join core.pupil_identity as i on $identified and i.pupil_key = r.pupil_key
where r.school_urn = $school_urn
    and list_contains($pupil_keys, r.pupil_key)
    and ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
