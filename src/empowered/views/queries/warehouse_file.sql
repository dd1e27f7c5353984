-- grain: one row: the file this connection reads (with the build id, it names what a kept
-- result was worked out from, whichever warehouse the process has open)
select path from duckdb_databases() where database_name = current_database()
