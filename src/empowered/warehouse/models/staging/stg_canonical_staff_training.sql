-- grain: one row per landed row of staff_training.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, staff_id, area_of_need, course, completed_on]
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
        trim(r.staff_id) as staff_id,
        upper(trim(r.area_of_need)) as area_of_need,
        trim(r.course) as course,
        case
            when regexp_matches(trim(r.completed_on), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.completed_on) as date)
            when regexp_matches(trim(r.completed_on), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.completed_on), '/', 3) || '-' || lpad(split_part(trim(r.completed_on), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.completed_on), '/', 1), 2, '0') as date)
        end as completed_on,
        r.completed_on as completed_on_raw,
        coalesce(n.code is not null, false) as _need_known,
        coalesce(st.staff_id is not null, false) as _staff_known
    from raw.canonical_staff_training as r
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join reference.sen_need as n on n.code = upper(trim(r.area_of_need)) and n.effective_to is null
    left join (
        select distinct school_urn, staff_id from staging.stg_canonical_staff where _reject_reason is null
    ) as st on st.school_urn = trim(r.school_urn) and st.staff_id = trim(r.staff_id)
),

issues as (
    select _batch_id, _source_row, _source_item, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, _source_item, 6 as rule, 'staff_id' as column_name,
        cast(staff_id as varchar) as value,
        'is not a member of staff in staff.csv' as reason
    from typed where not _staff_known
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'area_of_need' as column_name,
        cast(area_of_need as varchar) as value,
        'is not a DfE SEN type of need code' as reason
    from typed where not _need_known
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'completed_on' as column_name,
        cast(completed_on_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where completed_on is null
)
