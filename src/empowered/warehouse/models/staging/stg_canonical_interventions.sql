-- grain: one row per landed row of interventions.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [intervention_code]
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
        lower(trim(r.intervention_code)) as intervention_code,
        trim(r.intervention_name) as intervention_name,
        trim(r.area_of_need) as area_of_need,
        upper(trim(r.target_need)) as target_need,
        lower(trim(r.measure)) as measure,
        try_cast(trim(r.group_size) as integer) as group_size,
        r.group_size as group_size_raw,
        try_cast(trim(r.minutes_per_session) as integer) as minutes_per_session,
        r.minutes_per_session as minutes_per_session_raw,
        try_cast(trim(r.hourly_staff_cost) as double) as hourly_staff_cost,
        r.hourly_staff_cost as hourly_staff_cost_raw,
        try_cast(trim(r.materials_cost) as double) as materials_cost,
        r.materials_cost as materials_cost_raw,
        try_cast(trim(r.training_cost) as double) as training_cost,
        r.training_cost as training_cost_raw
    from raw.canonical_interventions as r
),

issues as (
    select _batch_id, _source_row, _source_item, 1 as rule, 'intervention_code' as column_name,
        cast(intervention_code as varchar) as value,
        'is missing' as reason
    from typed where intervention_code is null or intervention_code = ''
    union all
    select _batch_id, _source_row, _source_item, 2 as rule, 'intervention_name' as column_name,
        cast(intervention_name as varchar) as value,
        'is missing' as reason
    from typed where intervention_name is null or intervention_name = ''
    union all
    select _batch_id, _source_row, _source_item, 3 as rule, 'measure' as column_name,
        cast(measure as varchar) as value,
        'is not one of: standardised_score, reading_age_months, spelling_age_months, rating' as reason
    from typed where measure is not null and measure not in ('standardised_score', 'reading_age_months', 'spelling_age_months', 'rating')
    union all
    select _batch_id, _source_row, _source_item, 4 as rule, 'group_size' as column_name,
        cast(group_size_raw as varchar) as value,
        'is not a whole number of 1 or more' as reason
    from typed where group_size_raw is not null and (group_size is null or group_size < 1)
    union all
    select _batch_id, _source_row, _source_item, 5 as rule, 'minutes_per_session' as column_name,
        cast(minutes_per_session_raw as varchar) as value,
        'is not a number of zero or more' as reason
    from typed where minutes_per_session_raw is not null and (minutes_per_session is null or minutes_per_session < 0)
    union all
    select _batch_id, _source_row, _source_item, 6 as rule, 'hourly_staff_cost' as column_name,
        cast(hourly_staff_cost_raw as varchar) as value,
        'is not a number of zero or more' as reason
    from typed where hourly_staff_cost_raw is not null and (hourly_staff_cost is null or hourly_staff_cost < 0)
    union all
    select _batch_id, _source_row, _source_item, 7 as rule, 'materials_cost' as column_name,
        cast(materials_cost_raw as varchar) as value,
        'is not a number of zero or more' as reason
    from typed where materials_cost_raw is not null and (materials_cost is null or materials_cost < 0)
    union all
    select _batch_id, _source_row, _source_item, 8 as rule, 'training_cost' as column_name,
        cast(training_cost_raw as varchar) as value,
        'is not a number of zero or more' as reason
    from typed where training_cost_raw is not null and (training_cost is null or training_cost < 0)
)
