-- grain: one row: the latest warehouse build (run id and when its last model finished)
select max(run_id) as run_id, max(finished_at) as finished_at
from meta.model_runs
