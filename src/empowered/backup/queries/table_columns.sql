-- The columns of one table in order, with their types written as SQL.
select column_name, data_type
from duckdb_columns()
where database_name = current_database() and schema_name = ? and table_name = ?
order by column_index
