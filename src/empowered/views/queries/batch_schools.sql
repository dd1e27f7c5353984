-- grain: one row per landed batch: the schools it belongs to
-- The schools its rows name, and the school chosen when it was uploaded (for files that
-- name none, such as a strategy catalogue). Raw tables only gain rows, so a batch's
-- schools change only with a new batch or a retention purge (which rebuilds): the caller
-- keeps the answer until then (views/imports.py), as it reads every raw table.
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
    -- A pupil chosen on the import page belongs to the school of the rows it settles.
    select _batch_id as batch_id, trim(school_urn) as school_urn from raw.canonical_pupil_match_choices where trim(school_urn) <> ''
    union
    select ib.batch_id, i.school_urn
    from app.import_batches as ib
    join app.imports as i on i.import_id = ib.import_id
    where i.school_urn is not null
)

select batch_id, list(distinct school_urn order by school_urn) as schools
from named
group by batch_id
