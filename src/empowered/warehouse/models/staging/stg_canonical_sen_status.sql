-- grain: one row per landed row of sen_status.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, upn, start_date, count(*) as n from staging.stg_canonical_sen_status
--       where _is_current group by school_urn, upn, start_date having count(*) > 1
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
        try_cast(trim(r.start_date) as date) as start_date,
        r.start_date as start_date_raw,
        upper(trim(r.sen_provision)) as sen_provision_raw,
        sp.maps_to as sen_provision,
        coalesce(not sp.is_current, false) as _provision_code_retired,
        upper(trim(r.primary_need)) as primary_need,
        upper(trim(r.secondary_need)) as secondary_need,
        coalesce(n1.code is not null, false) as _primary_need_known,
        coalesce(n2.code is not null, false) as _secondary_need_known,
        coalesce(n1.sen_support_only, false) as _primary_need_support_only
    from raw.canonical_sen_status as r
    left join raw.pupil_pseudonym as pk on pk.upn = upper(trim(r.upn))
    left join (
        select distinct school_urn, pupil_key from staging.stg_canonical_pupils
        where _reject_reason is null
    ) as pr on pr.pupil_key = pk.pupil_key and pr.school_urn = trim(r.school_urn)
    left join (
        select distinct school_urn from staging.stg_canonical_schools where _reject_reason is null
    ) as sk on sk.school_urn = trim(r.school_urn)
    left join reference.sen_provision as sp on sp.code = upper(trim(r.sen_provision))
    left join reference.sen_need as n1 on n1.code = upper(trim(r.primary_need)) and n1.effective_to is null
    left join reference.sen_need as n2 on n2.code = upper(trim(r.secondary_need)) and n2.effective_to is null
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, school_urn, upn, start_date) as _first_row_with_key
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
    select _batch_id, _source_row, 10 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value, 'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from keyed where start_date is null
    union all
    select _batch_id, _source_row, 11 as rule, 'sen_provision' as column_name,
        cast(sen_provision_raw as varchar) as value, 'is not a SEN provision code (E, K or N; old files S, A, P)' as reason
    from keyed where sen_provision is null
    union all
    select _batch_id, _source_row, 12 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value, 'is not a DfE SEN type of need code (e.g. ASD, SLCN, SEMH)' as reason
    from keyed where primary_need is not null and primary_need <> '' and not _primary_need_known
    union all
    select _batch_id, _source_row, 13 as rule, 'secondary_need' as column_name,
        cast(secondary_need as varchar) as value, 'is not a DfE SEN type of need code (e.g. ASD, SLCN, SEMH)' as reason
    from keyed where secondary_need is not null and secondary_need <> '' and not _secondary_need_known
    union all
    select _batch_id, _source_row, 14 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value, 'is missing: a pupil with an EHC plan or SEN support needs a primary need' as reason
    from keyed where sen_provision in ('E', 'K') and (primary_need is null or primary_need = '')
    union all
    select _batch_id, _source_row, 15 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value, 'is given for a pupil with no SEN (provision N)' as reason
    from keyed where sen_provision = 'N' and primary_need is not null and primary_need <> ''
    union all
    select _batch_id, _source_row, 16 as rule, 'primary_need' as column_name,
        cast(primary_need as varchar) as value, 'NSA (no specialist assessment) is only used for SEN support, not EHC plans' as reason
    from keyed where sen_provision = 'E' and _primary_need_support_only
    union all
    select _batch_id, _source_row, 90 as rule, 'start_date' as column_name,
        cast(start_date as varchar) as value, 'repeats the pupil and start date on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by school_urn, upn, start_date, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
