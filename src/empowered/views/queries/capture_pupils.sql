-- grain: one row per pupil in the user's scope, with the name and groups the capture page lists them by
-- Only identified scopes are offered capture; the names come from the one restricted table,
-- encrypted: empowered.identity decrypts them and the page sorts by name in Python.
-- Only pupils on roll: a capture for a pupil who has left would be quarantined by staging
-- (rule 19, outside the pupil's time on roll), so they are not offered.
with groups as (
    select pupil_key, school_urn, list(group_code order by group_code) as group_codes
    from core.bridge_group_member
    -- Only the schools in scope: listing every school's groups took most of the time.
    where ($scope_schools is null or list_contains($scope_schools, school_urn))
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
left join core.fct_enrolment as e on e.pupil_key = i.pupil_key and e.school_urn = i.school_urn
where (e.leaving_date is null or e.leaving_date >= current_date)
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
order by c.reg_group, i.pupil_key
