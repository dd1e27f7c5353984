-- The first row of one landed batch whose school is not one the importer may write to.
-- A blank school is let through: staging quarantines it (no such school), so it changes
-- nothing. Parameters: batch id, the importer's schools (a list).
select _source_row, trim(school_urn) as value
from {table}
where _batch_id = ?
    and nullif(trim(school_urn), '') is not null
    and not list_contains(?, trim(school_urn))
order by _source_row, _source_item
limit 1
