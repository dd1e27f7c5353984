-- grain: one row per landed row of attendance.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, upn, session_date, session]
-- Rules are numbered: a rejected row reports its lowest-numbered problem. The shared
-- ending (warehouse/templates/validated_rows.sql) adds duplicates, quarantine and
-- which row is current.
with typed as (
    select
        r._batch_id,
        r._source_row,
        r._source_file,
        trim(r.school_urn) as school_urn,
        upper(trim(r.upn)) as upn,
        roll.pupil_key,
        roll.pupil_key is not null as _pupil_on_roll,
        sk.school_urn is not null as _school_known,
        try_cast(trim(r.date) as date) as session_date,
        r.date as session_date_raw,
        upper(trim(r.session)) as session,
        r.code as code_raw,
        ac.code as code,
        ac.category as code_category,
        coalesce(ac.is_retired, false) as _code_retired
    from raw.canonical_attendance as r
    left join staging.stg_canonical_pupil_roll as roll
        on roll.school_urn = trim(r.school_urn) and roll.upn = upper(trim(r.upn))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join reference.attendance_code as ac
        on ac.code = upper(trim(r.code))
        and try_cast(trim(r.date) as date) >= ac.effective_from
        and (ac.effective_to is null or try_cast(trim(r.date) as date) <= ac.effective_to)
),

issues as (
    select _batch_id, _source_row, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, 6 as rule, 'upn' as column_name,
        cast(upn as varchar) as value,
        'is missing: every row must name the pupil by UPN' as reason
    from typed where upn is null or upn = ''
    union all
    select _batch_id, _source_row, 7 as rule, 'upn' as column_name,
        cast(upn as varchar) as value,
        'is not a pupil on roll at this school (pupils.csv)' as reason
    from typed where upn is not null and upn <> '' and not _pupil_on_roll
    union all
    select _batch_id, _source_row, 10 as rule, 'session_date' as column_name,
        cast(session_date_raw as varchar) as value,
        'is missing or is not a date (expected YYYY-MM-DD)' as reason
    from typed where session_date is null
    union all
    select _batch_id, _source_row, 11 as rule, 'session_date' as column_name,
        cast(session_date_raw as varchar) as value,
        'is in the future' as reason
    from typed where session_date > current_date
    union all
    select _batch_id, _source_row, 12 as rule, 'session' as column_name,
        cast(session as varchar) as value,
        'is not one of: AM, PM' as reason
    from typed where session is null or session not in ('AM', 'PM')
    union all
    select _batch_id, _source_row, 13 as rule, 'code' as column_name,
        cast(code_raw as varchar) as value,
        'is not a DfE attendance register code in force on that date' as reason
    from typed where code is null
)
