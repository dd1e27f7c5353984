-- grain: one row: the latest version of one plan landed in raw (a save not yet built counts)
-- Read from raw so that two saves landed before one build (the demo's) number on.
select max(try_cast(trim(plan_version) as integer)) as version
from raw.canonical_plans
where trim(plan_id) = $plan_id
