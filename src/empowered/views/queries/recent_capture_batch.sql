-- grain: one row: the first capture batch that a rebuild may not have reached yet (null when
-- there is none), so the pupil page scans raw only from there, and not at all most of the time.
-- A rebuild after a capture starts within seconds of it; an hour before the latest build
-- finished is a safe margin for one still running when that capture landed.
select min(b.batch_id) as since_batch
from meta.batches as b
where b.source = 'capture'
    and b.loaded_at >= coalesce(
        (select max(r.finished_at) from meta.model_runs as r) - interval 1 hour,
        timestamp '1900-01-01'
    )
