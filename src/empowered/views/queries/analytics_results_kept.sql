-- grain: one row per stored result: its kind, school ('' for the whole trust) and the
-- fingerprint of the inputs it came from (not the result itself)
select kind, school_urn, inputs
from app.analytics_results
