-- grain: one row per pupil x school x academic year x context (dimension and value)
select
    r.pupil_key,
    r.school_urn,
    r.academic_year,
    r.context_dimension,
    r.context_value,
    coalesce(r.context_label, r.context_value) as context_label,
    r.incidents,
    r.exposure_hours,
    r.exposure_method,
    r.total_incidents,
    r.total_exposure_hours
from marts.behaviour_context_rate as r
where ($school_urn is null or r.school_urn = $school_urn)
    and ($pupil_key is null or r.pupil_key = $pupil_key)
order by r.school_urn, r.pupil_key, r.academic_year, r.context_dimension, r.context_value
