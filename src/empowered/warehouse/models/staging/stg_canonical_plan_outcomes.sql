-- grain: one row per landed row of plan_outcomes.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [outcome_id]
-- Rules are numbered: a rejected row reports its lowest-numbered problem; rules from
-- 100 up are warnings (the row is accepted and the warning reported). The shared
-- ending (warehouse/templates/validated_rows.sql) adds duplicates, quarantine and
-- which row is current.
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_item,
        r._source_file,
        trim(r.outcome_id) as outcome_id,
        trim(r.plan_id) as plan_id,
        trim(r.area_of_need) as area_of_need,
        trim(r.outcome_text) as outcome_text,
        case
            when regexp_matches(trim(r.target_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.target_date) as date)
            when regexp_matches(trim(r.target_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.target_date), '/', 3) || '-' || lpad(split_part(trim(r.target_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.target_date), '/', 1), 2, '0') as date)
        end as target_date,
        r.target_date as target_date_raw,
        coalesce(pl.plan_id is not null, false) as _plan_known
    from raw.canonical_plan_outcomes as r
    left join (
        select distinct plan_id from staging.stg_canonical_plans where _reject_reason is null
    ) as pl on pl.plan_id = trim(r.plan_id)
),

issues as (
    select _batch_id, _source_row, _source_item, 1 as rule, 'plan_id' as column_name,
        cast(plan_id as varchar) as value,
        'is not a plan in plans.csv' as reason
    from typed where not _plan_known
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'target_date' as column_name,
        cast(target_date_raw as varchar) as value,
        'is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where target_date_raw is not null and target_date is null
)
