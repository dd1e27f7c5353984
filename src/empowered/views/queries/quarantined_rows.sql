-- grain: one row per quarantined source row of one batch (a page of them), in file order
-- The caller has checked the batch is in the user's scope (import_batches.sql). Values
-- are as the file held them and may be personal data: the page that shows them is audited.
select source_file, source_row, source_item, column_name, value, reason
from quarantine.rejected_rows
where batch_id = $batch_id
order by source_row, source_item
limit $limit offset $offset
