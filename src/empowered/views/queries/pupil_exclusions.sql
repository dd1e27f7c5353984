-- grain: one row per suspension or permanent exclusion of one pupil
select x.exclusion_key, x.school_urn, x.start_date, x.category, x.batch_id
from core.fct_exclusion as x
where x.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, x.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, x.pupil_key))
order by x.start_date, x.exclusion_key
