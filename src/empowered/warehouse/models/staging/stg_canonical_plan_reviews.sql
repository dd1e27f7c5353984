-- grain: one row per landed row of plan_reviews.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [review_id]
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
        trim(r.review_id) as review_id,
        trim(r.plan_id) as plan_id,
        trim(r.outcome_id) as outcome_id,
        case
            when regexp_matches(trim(r.review_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.review_date) as date)
            when regexp_matches(trim(r.review_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.review_date), '/', 3) || '-' || lpad(split_part(trim(r.review_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.review_date), '/', 1), 2, '0') as date)
        end as review_date,
        r.review_date as review_date_raw,
        lower(trim(r.progress)) as progress,
        trim(r.note) as note,
        coalesce(pl.plan_id is not null, false) as _plan_known,
        coalesce(po.outcome_id is not null, false) as _outcome_known
    from raw.canonical_plan_reviews as r
    left join (
        select distinct plan_id from staging.stg_canonical_plans where _reject_reason is null
    ) as pl on pl.plan_id = trim(r.plan_id)
    left join (
        select distinct outcome_id, plan_id from staging.stg_canonical_plan_outcomes where _reject_reason is null
    ) as po on po.outcome_id = trim(r.outcome_id) and po.plan_id = trim(r.plan_id)
),

issues as (
    select _batch_id, _source_row, _source_item, 1 as rule, 'plan_id' as column_name,
        cast(plan_id as varchar) as value,
        'is not a plan in plans.csv' as reason
    from typed where not _plan_known
    union all
    select _batch_id, _source_row, _source_item, 2 as rule, 'outcome_id' as column_name,
        cast(outcome_id as varchar) as value,
        'is not an outcome of this plan in plan_outcomes.csv' as reason
    from typed where outcome_id is not null and outcome_id <> '' and not _outcome_known
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'review_date' as column_name,
        cast(review_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where review_date is null
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'progress' as column_name,
        cast(progress as varchar) as value,
        'is not one of: not_started, some, good, achieved' as reason
    from typed where progress is not null and progress not in ('not_started', 'some', 'good', 'achieved')
)
