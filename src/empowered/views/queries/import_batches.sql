-- grain: one row per landed batch (one file's rows for one entity) in scope, newest first
-- Which schools a batch belongs to: the schools its rows name, and the school chosen when
-- it was uploaded (for files that name none, such as a strategy catalogue).
-- A batch is shown only to a scope that covers every one of its schools, so a file with
-- rows for two schools is seen whole by the trust and by neither school alone.
with named as (
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_schools where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_pupils where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_characteristics where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_sen_status where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_terms where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_closures where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_periods where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_staff where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_staff_training where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_observations where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_incidents where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_strategy_uses where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_attendance where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_assessments where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_exclusions where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_provision_enrolments where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_plans where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_actions where trim(school_urn) <> ''
    union
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_groups where trim(school_urn) <> ''
    union
    select ib.batch_id, i.school_urn
    from app.import_batches as ib
    join app.imports as i on i.import_id = ib.import_id
    where i.school_urn is not null
),

owned as (
    select batch_id, list(distinct school_urn order by school_urn) as schools
    from named
    group by batch_id
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
    and ($import_id is null or i.import_id = $import_id)
    and (
        $scope_schools is null
        or (len(coalesce(o.schools, [])) > 0 and list_has_all($scope_schools, o.schools))
    )
order by b.batch_id desc
limit $limit
