-- grain: one row per batch in $batch_ids: where the rows of that batch came from (its
-- source, file or form name, and when it landed). The provenance every entry can show.
select b.batch_id, b.source, b.file_name, b.loaded_at
from meta.batches as b
where list_contains($batch_ids, b.batch_id)
