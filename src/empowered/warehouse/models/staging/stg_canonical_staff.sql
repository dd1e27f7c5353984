-- grain: one row per landed row of staff.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, staff_id, count(*) as n from staging.stg_canonical_staff
--       where _is_current group by school_urn, staff_id having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.school_urn) as school_urn,
        coalesce(sk.school_urn is not null, false) as _school_known,
        trim(r.staff_id) as staff_id,
        lower(trim(r.role)) as role,
        r.role as role_raw
    from raw.canonical_staff as r
    left join (
        select distinct school_urn from staging.stg_canonical_schools where _reject_reason is null
    ) as sk on sk.school_urn = trim(r.school_urn)
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, school_urn, staff_id) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value, 'is not a school in this export (schools.csv)' as reason
    from keyed where not _school_known
    union all
    select _batch_id, _source_row, 10 as rule, 'role' as column_name,
        cast(role_raw as varchar) as value, 'is not one of: teacher, teaching_assistant, senco, dsl, therapist, pastoral, leader' as reason
    from keyed where role is null or role not in ('teacher', 'teaching_assistant', 'senco', 'dsl', 'therapist', 'pastoral', 'leader')
    union all
    select _batch_id, _source_row, 90 as rule, 'staff_id' as column_name,
        cast(staff_id as varchar) as value, 'repeats the member of staff on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by school_urn, staff_id, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
