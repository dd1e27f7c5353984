-- The first row of one landed batch (a trust-wide catalogue the importer may not change).
select _source_row, trim({key}) as value
from {table}
where _batch_id = ?
order by _source_row, _source_item
limit 1
