-- grain: at most one row: a plan save (its plans batch) already landed with this form key
select batch_id
from meta.batches
where source = $source and file_hash = $file_hash
limit 1
