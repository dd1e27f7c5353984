-- grain: one row per pupil on roll at $school_urn: whose name index is in $name_bidxs (the pupils a row's name could mean), or every pupil there with $all_pupils (to search by name)
-- Only for a user the policy lets choose a pupil for the school (policy.may_choose_pupil).
-- Names and dates of birth are encrypted: empowered.identity decrypts them, and searching
-- by name happens in Python after decryption.
select
    i.pupil_key,
    i.forename,
    i.surname,
    i.date_of_birth,
    c.reg_group,
    c.year_group
from staging.stg_canonical_pupil_roll as roll
inner join core.pupil_identity as i
    on i.pupil_key = roll.pupil_key and i.school_urn = roll.school_urn
left join core.dim_characteristics_history as c
    on c.pupil_key = i.pupil_key and c.school_urn = i.school_urn and c.is_current
where roll.school_urn = $school_urn
    and (
        $all_pupils
        or list_contains($name_bidxs, roll.name_bidx)
        or list_contains($name_bidxs, roll.name_reversed_bidx)
    )
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
order by i.pupil_key
