select r._batch_id, r._source_row, r._source_item, trim(r.{key}) as id, p.school
from {table} as r
left join (
    select distinct trim({parent_key}) as id, trim(school_urn) as school from {parent_table}
) as p on p.id = trim(r.{ref})
