-- grain: one row per pupil per school day with at least one check-in
select
    d.pupil_key,
    d.school_urn,
    d.observed_on,
    d.academic_year,
    d.mood_mean,
    d.mood_observations,
    d.engagement_mean,
    d.engagement_observations
from marts.wellbeing_pupil_day as d
where ($school_urn is null or d.school_urn = $school_urn)
    and ($pupil_key is null or d.pupil_key = $pupil_key)
order by d.school_urn, d.pupil_key, d.observed_on
