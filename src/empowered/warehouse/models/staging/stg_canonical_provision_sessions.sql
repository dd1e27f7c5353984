-- grain: one row per landed row of provision_sessions.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [enrolment_id, session_date]
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
        trim(r.enrolment_id) as enrolment_id,
        case
            when regexp_matches(trim(r.session_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.session_date) as date)
            when regexp_matches(trim(r.session_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.session_date), '/', 3) || '-' || lpad(split_part(trim(r.session_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.session_date), '/', 1), 2, '0') as date)
        end as session_date,
        r.session_date as session_date_raw,
        case
            when upper(trim(r.delivered)) in ('Y', 'YES', 'TRUE', 'T', '1') then true
            when upper(trim(r.delivered)) in ('N', 'NO', 'FALSE', 'F', '0') then false
        end as delivered,
        r.delivered as delivered_raw,
        try_cast(trim(r.minutes) as integer) as minutes,
        r.minutes as minutes_raw,
        coalesce(en.enrolment_id is not null, false) as _enrolment_known
    from raw.canonical_provision_sessions as r
    left join (
        select distinct enrolment_id from staging.stg_canonical_provision_enrolments where _reject_reason is null
    ) as en on en.enrolment_id = trim(r.enrolment_id)
),

issues as (
    select _batch_id, _source_row, _source_item, 1 as rule, 'enrolment_id' as column_name,
        cast(enrolment_id as varchar) as value,
        'is not an enrolment in provision_enrolments.csv' as reason
    from typed where not _enrolment_known
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'session_date' as column_name,
        cast(session_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where session_date is null
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'delivered' as column_name,
        cast(delivered_raw as varchar) as value,
        'must be Y or N (or Yes/No)' as reason
    from typed where delivered_raw is not null and delivered is null
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'delivered' as column_name,
        cast(delivered_raw as varchar) as value,
        'is missing: was the session delivered (Y or N)?' as reason
    from typed where delivered is null
    union all
    select _batch_id, _source_row, _source_item, 13 as rule, 'minutes' as column_name,
        cast(minutes_raw as varchar) as value,
        'is not a number of zero or more' as reason
    from typed where minutes_raw is not null and (minutes is null or minutes < 0)
)
