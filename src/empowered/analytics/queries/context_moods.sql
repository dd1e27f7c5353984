-- grain: one row per pupil x school x academic year x context with check-ins
select
    w.pupil_key,
    w.school_urn,
    w.academic_year,
    w.context_dimension,
    w.context_value,
    w.mood_observations,
    w.mood_mean,
    w.mood_sd,
    w.total_mood_observations,
    w.total_mood_mean,
    w.total_mood_sd,
    w.days_compared,
    w.mood_day_difference_mean,
    w.mood_day_difference_sd
from marts.wellbeing_context as w
where ($school_urn is null or w.school_urn = $school_urn)
    and ($pupil_key is null or w.pupil_key = $pupil_key)
order by w.school_urn, w.pupil_key, w.academic_year, w.context_dimension, w.context_value
