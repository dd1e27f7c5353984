-- grain: at most one row: the stored result of one kind for one school, if computed from
-- the inputs given
select value
from app.analytics_results
where kind = $kind and school_urn = $school_urn and inputs = $inputs
limit 1
