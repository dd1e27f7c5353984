-- grain: one row per reason given for a suspension or exclusion (up to three, ranked)
-- unique_key: [exclusion_key, reason_rank]
-- not_null: [exclusion_key, reason_rank, reason_code]
-- relationships:
--   exclusion_key: core.fct_exclusion.exclusion_key
--   reason_code: reference.exclusion_reason.code
with current_rows as (
    select school_urn || ':' || exclusion_id as exclusion_key, reason_1, reason_2, reason_3
    from staging.stg_canonical_exclusions
    where _is_current
),

reasons as (
    select exclusion_key, 1 as reason_rank, reason_1 as reason_code from current_rows
    union all
    select exclusion_key, 2, reason_2 from current_rows
    union all
    select exclusion_key, 3, reason_3 from current_rows
)

select exclusion_key, reason_rank, reason_code
from reasons
where reason_code is not null and reason_code <> ''
