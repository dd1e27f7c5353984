select _batch_id, _source_row, _source_item, trim({key}) as id, trim(school_urn) as school
from {table}
