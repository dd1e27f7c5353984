-- grain: one row per school per timetable period (lesson, break, lunch...)
-- unique_key: [school_urn, period_code]
-- not_null: [school_urn, period_code, start_minute, end_minute]
-- relationships:
--   school_urn: core.dim_school.school_urn
select
    school_urn,
    period_code,
    period_name,
    start_minute,
    end_minute,
    row_number() over (partition by school_urn order by start_minute, period_code) as period_order
from staging.stg_canonical_periods
where _is_current
