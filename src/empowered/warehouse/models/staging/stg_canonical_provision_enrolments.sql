-- grain: one row per landed row of provision_enrolments.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select enrolment_id, count(*) as n from staging.stg_canonical_provision_enrolments
--       where _is_current group by enrolment_id having count(*) > 1
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
        trim(r.enrolment_id) as enrolment_id,
        lower(trim(r.intervention_code)) as intervention_code,
        trim(r.staff_id) as staff_id,
        try_cast(trim(r.start_date) as date) as start_date,
        r.start_date as start_date_raw,
        try_cast(trim(r.end_date) as date) as end_date,
        r.end_date as end_date_raw,
        try_cast(trim(r.sessions_planned) as integer) as sessions_planned,
        r.sessions_planned as sessions_planned_raw,
        try_cast(trim(r.pre_date) as date) as pre_date,
        r.pre_date as pre_date_raw,
        try_cast(trim(r.pre_score) as double) as pre_score,
        r.pre_score as pre_score_raw,
        try_cast(trim(r.post_date) as date) as post_date,
        r.post_date as post_date_raw,
        try_cast(trim(r.post_score) as double) as post_score,
        r.post_score as post_score_raw,
        coalesce(ic.intervention_code is not null, false) as _intervention_known
    from raw.canonical_provision_enrolments as r
    left join raw.pupil_pseudonym as pk on pk.upn = upper(trim(r.upn))
    left join (
        select distinct school_urn, pupil_key from staging.stg_canonical_pupils
        where _reject_reason is null
    ) as pr on pr.pupil_key = pk.pupil_key and pr.school_urn = trim(r.school_urn)
    left join (
        select distinct school_urn from staging.stg_canonical_schools where _reject_reason is null
    ) as sk on sk.school_urn = trim(r.school_urn)
    left join (
        select distinct intervention_code from staging.stg_canonical_interventions where _reject_reason is null
    ) as ic on ic.intervention_code = lower(trim(r.intervention_code))
),

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, enrolment_id) as _first_row_with_key
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
    select _batch_id, _source_row, 8 as rule, 'intervention_code' as column_name,
        cast(intervention_code as varchar) as value, 'is not an intervention in the catalogue (interventions.csv)' as reason
    from keyed where not _intervention_known
    union all
    select _batch_id, _source_row, 10 as rule, 'start_date' as column_name,
        cast(start_date_raw as varchar) as value, 'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from keyed where start_date is null
    union all
    select _batch_id, _source_row, 11 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value, 'is not a date (expected YYYY-MM-DD)' as reason
    from keyed where end_date_raw is not null and end_date is null
    union all
    select _batch_id, _source_row, 12 as rule, 'end_date' as column_name,
        cast(end_date_raw as varchar) as value, 'is before the start date' as reason
    from keyed where end_date < start_date
    union all
    select _batch_id, _source_row, 13 as rule, 'sessions_planned' as column_name,
        cast(sessions_planned_raw as varchar) as value, 'is not a number of zero or more' as reason
    from keyed where sessions_planned_raw is not null and (sessions_planned is null or sessions_planned < 0)
    union all
    select _batch_id, _source_row, 14 as rule, 'pre_date' as column_name,
        cast(pre_date_raw as varchar) as value, 'is not a date (expected YYYY-MM-DD)' as reason
    from keyed where pre_date_raw is not null and pre_date is null
    union all
    select _batch_id, _source_row, 15 as rule, 'post_date' as column_name,
        cast(post_date_raw as varchar) as value, 'is not a date (expected YYYY-MM-DD)' as reason
    from keyed where post_date_raw is not null and post_date is null
    union all
    select _batch_id, _source_row, 16 as rule, 'pre_score' as column_name,
        cast(pre_score_raw as varchar) as value, 'is not a number' as reason
    from keyed where pre_score_raw is not null and pre_score is null
    union all
    select _batch_id, _source_row, 17 as rule, 'post_score' as column_name,
        cast(post_score_raw as varchar) as value, 'is not a number' as reason
    from keyed where post_score_raw is not null and post_score is null
    union all
    select _batch_id, _source_row, 18 as rule, 'post_date' as column_name,
        cast(post_date_raw as varchar) as value, 'is before the pre-assessment date' as reason
    from keyed where post_date < pre_date
    union all
    select _batch_id, _source_row, 90 as rule, 'enrolment_id' as column_name,
        cast(enrolment_id as varchar) as value, 'repeats the enrolment id on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by enrolment_id, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
