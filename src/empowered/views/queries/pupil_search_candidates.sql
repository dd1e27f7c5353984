-- grain: one row per pupil in scope with identity: who a search by name or UPN may find
-- (only ever run for identified scopes). forename and surname are ciphertext, decrypted by
-- empowered.identity; upn_bidx is the UPN's blind index, matched without decrypting.
-- Year group and SEN status as of the school's as-of date (marts.register_pupil); a pupil
-- no longer on roll there keeps their last recorded year group.
select
    i.pupil_key,
    i.school_urn,
    i.forename,
    i.surname,
    i.upn_bidx,
    s.school_name,
    coalesce(r.year_group, c.year_group) as year_group,
    coalesce(r.reg_group, c.reg_group) as reg_group,
    r.sen_provision,
    r.sen_provision_name,
    r.pupil_key is not null as on_roll
from core.pupil_identity as i
left join marts.register_pupil as r on r.pupil_key = i.pupil_key and r.school_urn = i.school_urn
left join core.dim_characteristics_history as c
    on c.pupil_key = i.pupil_key and c.school_urn = i.school_urn and c.is_current
left join core.dim_school as s on s.school_urn = i.school_urn
where ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
order by i.pupil_key
