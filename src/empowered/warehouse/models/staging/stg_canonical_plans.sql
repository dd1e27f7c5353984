-- grain: one row per landed row of plans.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [plan_id]
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
        r.upn as upn,
        r.mis_id as mis_id,
        r.pupil_name as pupil_name,
        r.pupil_dob as pupil_dob,
        upper(trim(r.pupil_group)) as pupil_group,
        ref.pupil_key,
        ref.method as _pupil_match_method,
        ref.problem_column as _pupil_problem_column,
        ref.problem_value as _pupil_problem_value,
        ref.problem_reason as _pupil_problem_reason,
        ref.entry_date as _pupil_entry_date,
        ref.leaving_date as _pupil_leaving_date,
        sk.school_urn is not null as _school_known,
        trim(r.plan_id) as plan_id,
        lower(trim(r.plan_type)) as plan_type,
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
        r.end_date as end_date_raw,
        case
            when regexp_matches(trim(r.next_review_due), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.next_review_due) as date)
            when regexp_matches(trim(r.next_review_due), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.next_review_due), '/', 3) || '-' || lpad(split_part(trim(r.next_review_due), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.next_review_due), '/', 1), 2, '0') as date)
        end as next_review_due,
        r.next_review_due as next_review_due_raw
    from raw.canonical_plans as r
    left join staging.stg_canonical_pupil_refs as ref
        on ref.ref_key = concat_ws('|', coalesce(trim(r.school_urn), ''), coalesce(r.upn_bidx, ''),
            coalesce(r.mis_id_bidx, ''), coalesce(r.pupil_name_bidx, ''),
            coalesce(r.pupil_name_dob_bidx, r.pupil_dob_state, ''), coalesce(upper(trim(r.pupil_group)), ''))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
),

issues as (
    select _batch_id, _source_row, _source_item, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, _source_item, 6 as rule, _pupil_problem_column as column_name,
        cast(_pupil_problem_value as varchar) as value,
        _pupil_problem_reason as reason
    from typed where _pupil_problem_reason is not null
    union all
    select _batch_id, _source_row, _source_item, 8 as rule, 'plan_type' as column_name,
        cast(plan_type as varchar) as value,
        'is not one of: sen_support_plan, ehc_plan' as reason
    from typed where plan_type is null or plan_type not in ('sen_support_plan', 'ehc_plan')
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where start_date is null
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value,
        'is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where end_date_raw is not null and end_date is null
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value,
        'is before the start date' as reason
    from typed where end_date < start_date
    union all
    select _batch_id, _source_row, _source_item, 13 as rule, 'next_review_due' as column_name,
        cast(next_review_due_raw as varchar) as value,
        'is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where next_review_due_raw is not null and next_review_due is null
)
