-- The first row of one landed batch whose own id (a plan, an enrolment, an outcome, a
-- review: ids the whole trust shares) is already held by a row at a school the importer
-- may not write to. Staging keeps the latest row of an id, so such a row would move
-- another school's record. The owned rows are every raw row of the entity with its id
-- and school. Parameters: the batch id, the importer's schools (a list).
with owned as (
    {owned}
)

select b._source_row, b.id as value
from owned as b
inner join owned as o on o.id = b.id
where b._batch_id = ?
    and nullif(o.school, '') is not null
    and not list_contains(?, o.school)
order by b._source_row, b._source_item
limit 1
