-- grain: one row per pupil in the user's scope, with the name and groups the capture page lists them by
-- Only identified scopes are offered capture; the names come from the one restricted table,
-- encrypted: empowered.identity decrypts them and the page sorts by name in Python.
with groups as (
    select pupil_key, school_urn, list(group_code order by group_code) as group_codes
    from core.bridge_group_member
    group by pupil_key, school_urn
)
select
    i.pupil_key,
    i.school_urn,
    i.forename,
    i.surname,
    c.reg_group,
    c.year_group,
    coalesce(g.group_codes, []) as group_codes
from core.pupil_identity as i
left join core.dim_characteristics_history as c
    on c.pupil_key = i.pupil_key and c.school_urn = i.school_urn and c.is_current
left join groups as g on g.pupil_key = i.pupil_key and g.school_urn = i.school_urn
where ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
order by c.reg_group, i.pupil_key
