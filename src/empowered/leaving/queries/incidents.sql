-- grain: one row per incident (antecedent, behaviour, consequence) typed in the app at
--   $school (current row)
select
    i.incident_id, i.pupil_key, i.occurred_on as date,
    printf('%02d:%02d', i.occurred_minute // 60, i.occurred_minute % 60) as time,
    i.activity, i.setting, i.antecedent, i.behaviour, i.consequence, i.intensity,
    i.duration_minutes, i.staff_id as recorded_by
from staging.stg_canonical_incidents as i
where i._is_current and i.school_urn = $school
    and i._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by i.occurred_on, i.occurred_minute, i.incident_id
