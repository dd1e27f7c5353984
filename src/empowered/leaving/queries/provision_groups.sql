-- grain: one row per intervention group set up in the app at $school (current row)
select
    g.group_id, g.group_name, g.intervention_code as intervention, g.day_of_week,
    printf('%02d:%02d', g.start_minute // 60, g.start_minute % 60) as starts,
    printf('%02d:%02d', g.end_minute // 60, g.end_minute % 60) as ends,
    g.start_date, g.end_date, g.staff_ids as staff
from staging.stg_canonical_provision_groups as g
where g._is_current and g.school_urn = $school
    and g._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by g.group_name, g.group_id
