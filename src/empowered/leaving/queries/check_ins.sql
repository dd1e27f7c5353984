-- grain: one row per quick check-in typed in the app at $school (current row)
select
    o.observation_id as check_in_id, o.pupil_key, o.observed_on as date,
    printf('%02d:%02d', o.observed_minute // 60, o.observed_minute % 60) as time,
    o.activity, o.setting, o.mood, o.engagement, o.regulation, o.note,
    o.staff_id as recorded_by
from staging.stg_canonical_observations as o
where o._is_current and o.school_urn = $school
    and o._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by o.observed_on, o.observed_minute, o.observation_id
