-- The first row of one landed batch that refers (by id) to a parent record (a plan, an
-- enrolment) that is unknown or held by a school the importer may not write to. Parents
-- are looked up in every batch landed, this import's included, so a plan and its reviews
-- can arrive together. An unknown id is refused too: ids are sequential, and a row
-- waiting for a plan another school will create later would attach to it.
-- Parameters: the importer's schools (a list) twice, then the batch id.
with parents as (
    select
        trim({parent_key}) as id,
        bool_or(
            nullif(trim(school_urn), '') is not null and not list_contains(?, trim(school_urn))
        ) as elsewhere,
        bool_or(coalesce(list_contains(?, trim(school_urn)), false)) as ours
    from {parent_table}
    group by 1
)

select r._source_row, trim(r.{ref}) as value
from {table} as r
left join parents as p on p.id = trim(r.{ref})
where r._batch_id = ?
    and nullif(trim(r.{ref}), '') is not null
    and (p.id is null or p.elsewhere or not p.ours)
order by r._source_row, r._source_item
limit 1
