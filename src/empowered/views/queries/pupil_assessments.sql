-- grain: one row per assessment result of one pupil
select
    a.school_urn, a.assessed_on, a.academic_year, a.term, a.subject, a.assessment, a.measure,
    a.value, a.previous_value, a.change_since_previous, a.change_since_first,
    a.batch_id
from marts.learning_assessment as a
where a.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, a.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, a.pupil_key))
order by a.assessed_on, a.subject, a.assessment, a.measure
