-- grain: one row per landed batch (one file's rows for one entity) in scope, newest first
-- Which schools a batch belongs to comes in as $owned (batch_schools.sql, kept by the caller).
-- A batch is shown only to a scope that covers every one of its schools, so a file with
-- rows for two schools is seen whole by the trust and by neither school alone.
-- Safeguarding concerns and what the DSL did with them are never listed (not even that one
-- was recorded, or when): they are the DSL's, on the concern pages (empowered.concerns).
with owned as (
    select
        unnest(cast($owned_batches as bigint[])) as batch_id,
        unnest(cast($owned_schools as varchar[][])) as schools
)

select
    b.batch_id,
    b.file_name,
    b.entity,
    b.source,
    b.loaded_at,
    b.rows_read as landed,
    bb.accepted,
    bb.quarantined,
    i.import_id,
    i.via,
    i.username,
    o.schools
from meta.batches as b
left join quarantine.batch_balance as bb on bb.batch_id = b.batch_id
left join app.import_batches as ib on ib.batch_id = b.batch_id
left join app.imports as i on i.import_id = ib.import_id
left join owned as o on o.batch_id = b.batch_id
where ($batch_id is null or b.batch_id = $batch_id)
    and b.source not in ('app-concern', 'app-concern-event', 'app-cp-file')
    and ($import_id is null or i.import_id = $import_id)
    and (
        $scope_schools is null
        or (len(coalesce(o.schools, [])) > 0 and list_has_all($scope_schools, o.schools))
    )
order by b.batch_id desc
limit $limit
