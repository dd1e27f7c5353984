-- grain: one row per pupil per school per academic year per term per activity with observations
-- unique_key: [pupil_key, school_urn, academic_year, term, activity]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, activity, activity_label, activity_category, observations,
--   engagement_observations]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   activity: core.dim_activity.activity
-- checks:
--   - name: engagement_within_the_1_to_5_scale
--     sql: >-
--       select * from marts.learning_engagement
--       where engagement_mean < 1 or engagement_mean > 5
-- Where is a child most and least engaged: subject lessons against unstructured time,
-- transitions and therapy (activity_category comes from the activity catalogue; an
-- activity a school wrote its own way is 'other'). Term by term, so a change over the
-- year shows. Check-ins with no activity recorded say nothing about where engagement
-- was, so they are not counted here (the wellbeing marts count them).
select
    o.pupil_key,
    o.school_urn,
    o.academic_year,
    o.term,
    o.activity,
    a.label as activity_label,
    a.category as activity_category,
    count(*) as observations,
    count(o.engagement) as engagement_observations,
    avg(cast(o.engagement as double)) as engagement_mean,
    stddev_samp(cast(o.engagement as double)) as engagement_sd,
    count(o.mood) as mood_observations,
    avg(cast(o.mood as double)) as mood_mean,
    count(o.regulation) as regulation_observations,
    avg(cast(o.regulation as double)) as regulation_mean
from core.fct_observation as o
inner join core.dim_activity as a on a.activity = o.activity
group by
    o.pupil_key,
    o.school_urn,
    o.academic_year,
    o.term,
    o.activity,
    a.label,
    a.category
