-- grain: one row per landed row of groups.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, group_code, upn, count(*) as n from staging.stg_canonical_groups
--       where _is_current group by school_urn, group_code, upn having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.school_urn) as school_urn,
        upper(trim(r.upn)) as upn,
        pk.pupil_key,
        coalesce(pr.pupil_key is not null, false) as _pupil_on_roll,
        coalesce(sk.school_urn is not null, false) as _school_known,
        trim(r.group_code) as group_code,
        trim(r.staff_id) as staff_id
    from raw.canonical_groups as r
    left join raw.pupil_pseudonym as pk on pk.upn = upper(trim(r.upn))
    left join (
        select distinct school_urn, pupil_key from staging.stg_canonical_pupils
        where _reject_reason is null
    ) as pr on pr.pupil_key = pk.pupil_key and pr.school_urn = trim(r.school_urn)
    left join (
        select distinct school_urn from staging.stg_canonical_schools where _reject_reason is null
    ) as sk on sk.school_urn = trim(r.school_urn)
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, school_urn, group_code, upn) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value, 'is not a school in this export (schools.csv)' as reason
    from keyed where not _school_known
    union all
    select _batch_id, _source_row, 6 as rule, 'upn' as column_name,
        cast(upn as varchar) as value, 'is missing: every row must name the pupil by UPN' as reason
    from keyed where upn is null or upn = ''
    union all
    select _batch_id, _source_row, 7 as rule, 'upn' as column_name,
        cast(upn as varchar) as value, 'is not a pupil on roll at this school (pupils.csv)' as reason
    from keyed where upn is not null and upn <> '' and not _pupil_on_roll
    union all
    select _batch_id, _source_row, 10 as rule, 'group_code' as column_name,
        cast(group_code as varchar) as value, 'is missing' as reason
    from keyed where group_code is null or group_code = ''
    union all
    select _batch_id, _source_row, 90 as rule, 'upn' as column_name,
        cast(upn as varchar) as value, 'repeats the pupil in the group on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by school_urn, group_code, upn, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
