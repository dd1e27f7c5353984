-- The tables a backup holds: every table of the schemas given (raw, app, meta), with the
-- DDL that recreates it exactly. Views are models: the build makes them again.
select schema_name, table_name, sql
from duckdb_tables()
where database_name = current_database()
    and not temporary
    and list_contains(?, schema_name)
order by schema_name, table_name
