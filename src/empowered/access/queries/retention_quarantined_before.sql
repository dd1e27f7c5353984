-- grain: one row per landed source row that was rejected (quarantined) in a batch
-- imported before $cutoff.
select q.entity, q.batch_id as _batch_id, q.source_row as _source_row,
    q.source_item as _source_item
from quarantine.rejected_rows as q
join meta.batches as b on b.batch_id = q.batch_id
where b.loaded_at < $cutoff
