-- grain: one row per landed row of staff_training.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, staff_id, area_of_need, course, completed_on, count(*) as n from staging.stg_canonical_staff_training
--       where _is_current group by school_urn, staff_id, area_of_need, course, completed_on having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.school_urn) as school_urn,
        coalesce(sk.school_urn is not null, false) as _school_known,
        trim(r.staff_id) as staff_id,
        upper(trim(r.area_of_need)) as area_of_need,
        trim(r.course) as course,
        try_cast(trim(r.completed_on) as date) as completed_on,
        r.completed_on as completed_on_raw,
        coalesce(n.code is not null, false) as _need_known,
        coalesce(st.staff_id is not null, false) as _staff_known
    from raw.canonical_staff_training as r
    left join (
        select distinct school_urn from staging.stg_canonical_schools where _reject_reason is null
    ) as sk on sk.school_urn = trim(r.school_urn)
    left join reference.sen_need as n on n.code = upper(trim(r.area_of_need)) and n.effective_to is null
    left join (
        select distinct school_urn, staff_id from staging.stg_canonical_staff where _reject_reason is null
    ) as st on st.school_urn = trim(r.school_urn) and st.staff_id = trim(r.staff_id)
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, school_urn, staff_id, area_of_need, course, completed_on) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value, 'is not a school in this export (schools.csv)' as reason
    from keyed where not _school_known
    union all
    select _batch_id, _source_row, 6 as rule, 'staff_id' as column_name,
        cast(staff_id as varchar) as value, 'is not a member of staff in staff.csv' as reason
    from keyed where not _staff_known
    union all
    select _batch_id, _source_row, 10 as rule, 'area_of_need' as column_name,
        cast(area_of_need as varchar) as value, 'is not a DfE SEN type of need code' as reason
    from keyed where not _need_known
    union all
    select _batch_id, _source_row, 11 as rule, 'completed_on' as column_name,
        cast(completed_on_raw as varchar) as value, 'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from keyed where completed_on is null
    union all
    select _batch_id, _source_row, 90 as rule, 'completed_on' as column_name,
        cast(completed_on as varchar) as value, 'repeats the training record on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
    from keyed where _source_row > _first_row_with_key
),

first_issue as (
    select *, row_number() over (
        partition by _batch_id, _source_row order by rule, column_name
    ) as n
    from issues
),

checked as (
    select
        t.*,
        i.column_name as _reject_column,
        i.value as _reject_value,
        i.reason as _reject_reason
    from keyed as t
    left join first_issue as i
        on i._batch_id = t._batch_id and i._source_row = t._source_row and i.n = 1
)

select
    *,
    coalesce(_reject_reason is null and row_number() over (
        partition by school_urn, staff_id, area_of_need, course, completed_on, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
