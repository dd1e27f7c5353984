-- grain: one row per raw table holding captured rows that landed after the last successful
-- run of the staging model reading it (a rebuild that never ran: the server stopped first)
select distinct 'raw.canonical_' || b.entity as raw_table
from meta.batches as b
where b.source = 'capture'
    and b.loaded_at > coalesce(
        (
            select max(r.finished_at) from meta.model_runs as r
            where r.model = 'staging.stg_canonical_' || b.entity and r.status = 'ok'
        ),
        timestamp '1900-01-01'
    )
order by raw_table
