-- grain: one row per pupil per school per day with at least one observation
-- unique_key: [pupil_key, school_urn, observed_on]
-- incremental:
--   by: observed_on
-- not_null: [pupil_key, school_urn, observed_on, observations, mood_observations,
--   engagement_observations, regulation_observations]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- checks:
--   - name: scores_within_the_1_to_5_scale
--     sql: >-
--       select * from marts.wellbeing_pupil_day
--       where mood_min < 1 or mood_max > 5 or mood_mean < 1 or mood_mean > 5
--       or engagement_mean < 1 or engagement_mean > 5
--       or regulation_mean < 1 or regulation_mean > 5
--   - name: rated_observations_never_exceed_observations
--     sql: >-
--       select * from marts.wellbeing_pupil_day
--       where mood_observations > observations or engagement_observations > observations
--       or regulation_observations > observations
-- The daily picture of a child that trend and early-sign analytics start from. Each score
-- may be left blank in a check-in, so every mean comes with the number of check-ins that
-- rated it; sd is the sample standard deviation and is null below two ratings (one
-- rating says nothing about how much a day varied). Means are of the raw 1-5 ratings.
select
    o.pupil_key,
    o.school_urn,
    o.observed_on,
    o.academic_year,
    o.term,
    o.half_term,
    o.school_week,
    o.iso_weekday,
    count(*) as observations,
    count(o.mood) as mood_observations,
    avg(cast(o.mood as double)) as mood_mean,
    stddev_samp(cast(o.mood as double)) as mood_sd,
    min(o.mood) as mood_min,
    max(o.mood) as mood_max,
    count(o.engagement) as engagement_observations,
    avg(cast(o.engagement as double)) as engagement_mean,
    stddev_samp(cast(o.engagement as double)) as engagement_sd,
    count(o.regulation) as regulation_observations,
    avg(cast(o.regulation as double)) as regulation_mean,
    stddev_samp(cast(o.regulation as double)) as regulation_sd
from core.fct_observation as o
group by
    o.pupil_key,
    o.school_urn,
    o.observed_on,
    o.academic_year,
    o.term,
    o.half_term,
    o.school_week,
    o.iso_weekday
