-- grain: one row per school with term dates
-- unique_key: [school_urn]
-- not_null: [school_urn, first_day, last_day]
-- The days the school calendar covers (core.dim_school_calendar: its first term's start
-- to its last term's end). An attendance mark outside them has no school year, term or
-- week, so staging quarantines it (stg_canonical_attendance, rule 20) instead of letting
-- it reach the marts without one.
select school_urn, min(start_date) as first_day, max(end_date) as last_day
from staging.stg_canonical_terms
where _is_current
group by school_urn
