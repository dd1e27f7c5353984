-- grain: one row per intervention the school added to its provision catalogue in the app
--   (current row)
select
    i.intervention_code, i.intervention_name, i.area_of_need, i.target_need, i.measure,
    i.group_size, i.minutes_per_session, i.sessions_per_week, i.weeks, i.staff_role,
    i.hourly_staff_cost, i.materials_cost, i.training_cost
from staging.stg_canonical_interventions as i
where i._is_current and i.school_urn = $school
    and i._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by i.intervention_name, i.intervention_code
