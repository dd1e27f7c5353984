-- grain: one row: the warehouse file, how many batches have landed and the newest one
-- (what batch_schools.sql's answer depends on, with the build)
select
    (select path from duckdb_databases() where database_name = current_database()) as db,
    count(*) as batches,
    max(batch_id) as last_batch
from meta.batches
