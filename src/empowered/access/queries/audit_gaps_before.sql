-- Runs of consecutive audit entries (by event_id) older than $cutoff, one row per run:
-- its first and last id, how many, the hash before it and the hash of its last entry
-- (entries from before the hash chain have none; only chained ones count).
with marked as (
    select
        event_id,
        prev_hash,
        entry_hash,
        "at" < $cutoff as doomed,
        row_number() over (order by event_id)
        - row_number() over (partition by "at" < $cutoff order by event_id) as island
    from app.audit_log
)

select
    min(event_id) as first_id,
    max(event_id) as last_id,
    count(*) as entries,
    arg_min(prev_hash, event_id) filter (where entry_hash is not null) as prev_hash,
    arg_max(entry_hash, event_id) filter (where entry_hash is not null) as last_hash
from marked
where doomed
group by island
order by first_id
