-- Every sequence with the value it hands out next: last_value is what nextval last gave
-- (null when it was never used since the sequence was made or the file was opened, and
-- then start_value is the next value).
select
    schema_name || '.' || sequence_name as name,
    coalesce(last_value + increment_by, start_value) as next_value,
    increment_by,
    min_value,
    max_value,
    cycle
from duckdb_sequences()
where database_name = current_database() and not temporary
order by name
