-- grain: one row per landed row of terms.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, start_date]
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
        trim(r.school_urn) as school_urn,
        sk.school_urn is not null as _school_known,
        trim(r.academic_year) as academic_year,
        lower(trim(r.term)) as term,
        try_cast(trim(r.half_term) as integer) as half_term,
        r.half_term as half_term_raw,
        case
            when regexp_matches(trim(r.start_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.start_date) as date)
            when regexp_matches(trim(r.start_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.start_date), '/', 3) || '-' || lpad(split_part(trim(r.start_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.start_date), '/', 1), 2, '0') as date)
        end as start_date,
        r.start_date as start_date_raw,
        case
            when regexp_matches(trim(r.end_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.end_date) as date)
            when regexp_matches(trim(r.end_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.end_date), '/', 3) || '-' || lpad(split_part(trim(r.end_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.end_date), '/', 1), 2, '0') as date)
        end as end_date,
        r.end_date as end_date_raw
    from raw.canonical_terms as r
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
),

issues as (
    select _batch_id, _source_row, _source_item, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, _source_item, 6 as rule, 'academic_year' as column_name,
        cast(academic_year as varchar) as value,
        'is not an academic year like 2025/26' as reason
    from typed where not regexp_matches(coalesce(academic_year, ''), '^[0-9]{4}/[0-9]{2}$')
    union all
    select _batch_id, _source_row, _source_item, 7 as rule, 'term' as column_name,
        cast(term as varchar) as value,
        'is not one of: autumn, spring, summer' as reason
    from typed where term is null or term not in ('autumn', 'spring', 'summer')
    union all
    select _batch_id, _source_row, _source_item, 8 as rule, 'half_term' as column_name,
        cast(half_term_raw as varchar) as value,
        'is not a whole number from 1 to 6' as reason
    from typed where (half_term is null or half_term < 1 or half_term > 6)
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where start_date is null
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where end_date is null
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value,
        'is before the start date' as reason
    from typed where end_date < start_date
)
