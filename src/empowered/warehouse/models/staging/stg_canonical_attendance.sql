-- grain: one row per landed row of attendance.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, pupil_key, session_date, session]
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
        case
            when regexp_matches(trim(r.date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.date) as date)
            when regexp_matches(trim(r.date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.date), '/', 3) || '-' || lpad(split_part(trim(r.date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.date), '/', 1), 2, '0') as date)
        end as session_date,
        r.date as session_date_raw,
        upper(trim(r.session)) as session,
        r.code as code_raw,
        coalesce(ac.code, old.code) as code,
        coalesce(ac.category, old.category) as code_category,
        coalesce(ac.counts_as_possible, old.counts_as_possible) as is_possible,
        coalesce(ac.counts_as_present, old.counts_as_present) as is_present,
        coalesce(ac.counts_as_authorised, old.counts_as_authorised) as is_authorised_absence,
        coalesce(ac.counts_as_unauthorised, old.counts_as_unauthorised) as is_unauthorised_absence,
        ac.code is null and old.code is not null as _code_retired,
        old.effective_to as _code_retired_on
    from raw.canonical_attendance as r
    left join staging.stg_canonical_pupil_refs as ref
        on ref.ref_key = concat_ws('|', coalesce(trim(r.school_urn), ''), coalesce(r.upn_bidx, ''),
            coalesce(r.mis_id_bidx, ''), coalesce(r.pupil_name_bidx, ''),
            coalesce(r.pupil_name_dob_bidx, r.pupil_dob_state, ''), coalesce(upper(trim(r.pupil_group)), ''))
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join reference.attendance_code as ac
        on ac.code = upper(trim(r.code))
        and (case
            when regexp_matches(trim(r.date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.date) as date)
            when regexp_matches(trim(r.date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.date), '/', 3) || '-' || lpad(split_part(trim(r.date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.date), '/', 1), 2, '0') as date)
        end) between ac.effective_from
        and coalesce(ac.effective_to, date '9999-12-31')
    -- A code retired before the session's date (an old MIS still offering it) is read
    -- with the meaning it last had, and the row carries a warning.
    left join (
        select *, row_number() over (partition by code order by effective_to desc) as n
        from reference.attendance_code where effective_to is not null
    ) as old
        on old.code = upper(trim(r.code)) and old.n = 1 and ac.code is null
        and (case
            when regexp_matches(trim(r.date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.date) as date)
            when regexp_matches(trim(r.date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.date), '/', 3) || '-' || lpad(split_part(trim(r.date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.date), '/', 1), 2, '0') as date)
        end) > old.effective_to
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
    select _batch_id, _source_row, _source_item, 10 as rule, 'session_date' as column_name,
        cast(session_date_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where session_date is null
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'session_date' as column_name,
        cast(session_date_raw as varchar) as value,
        'is in the future' as reason
    from typed where session_date > current_date
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'session' as column_name,
        cast(session as varchar) as value,
        'is not one of: AM, PM' as reason
    from typed where session is null or session not in ('AM', 'PM')
    union all
    select _batch_id, _source_row, _source_item, 13 as rule, 'code' as column_name,
        cast(code_raw as varchar) as value,
        'is not a DfE attendance register code in force on that date' as reason
    from typed where code is null
    union all
    select _batch_id, _source_row, _source_item, 19 as rule, 'session_date' as column_name,
        cast(session_date_raw as varchar) as value,
        'is outside the pupil''s time on roll at this school' as reason
    from typed where session_date < _pupil_entry_date or session_date > _pupil_leaving_date
    union all
    select _batch_id, _source_row, _source_item, 100 as rule, 'code' as column_name,
        cast(code_raw as varchar) as value,
        'was retired on ' || cast(_code_retired_on as varchar) || '; counted as ' || replace(code_category, '_', ' ') as reason
    from typed where _code_retired
)
