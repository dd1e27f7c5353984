-- The first row of one landed batch of pupils whose UPN (compared by its blind index) is
-- held by a pupil still on roll at a school the importer may not write to: their latest
-- row there has no leaving date. Enrolling that pupil here would bring them, and their
-- records from the other school, into this school's view. Rows in the same import do
-- not count against themselves. Parameters: the batch id, the importer's schools (a list),
-- the batch id again.
with mine as (
    select _source_row, _source_item, upn_bidx
    from {table}
    where _batch_id = ? and upn_bidx is not null
),

elsewhere as (
    select
        o.upn_bidx,
        o.leaving_date,
        row_number() over (
            partition by o.upn_bidx, trim(o.school_urn)
            order by o._batch_id desc, o._source_row desc, o._source_item desc
        ) as newest
    from {table} as o
    where o.upn_bidx in (select upn_bidx from mine)
        and nullif(trim(o.school_urn), '') is not null
        and not list_contains(?, trim(o.school_urn))
        and o._batch_id <> ?
)

select m._source_row, 'upn' as value
from mine as m
inner join elsewhere as e on e.upn_bidx = m.upn_bidx and e.newest = 1
where nullif(trim(e.leaving_date), '') is null
order by m._source_row, m._source_item
limit 1
