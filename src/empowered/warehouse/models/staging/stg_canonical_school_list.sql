-- grain: one row per school accepted from schools.csv
-- unique_key: [school_urn]
-- not_null: [school_urn]
-- The lookup every other staging model uses to check that a row's school exists.
select distinct school_urn
from staging.stg_canonical_schools
where _reject_reason is null
