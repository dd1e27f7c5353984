-- grain: one row per landed row of incidents.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, incident_id]
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
        trim(r.incident_id) as incident_id,
        case
            when regexp_matches(trim(r.occurred_on), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.occurred_on) as date)
            when regexp_matches(trim(r.occurred_on), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.occurred_on), '/', 3) || '-' || lpad(split_part(trim(r.occurred_on), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.occurred_on), '/', 1), 2, '0') as date)
        end as occurred_on,
        r.occurred_on as occurred_on_raw,
        case when regexp_matches(trim(r.occurred_time), '^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$')
            then try_cast(split_part(trim(r.occurred_time), ':', 1) as integer) * 60
                + try_cast(split_part(trim(r.occurred_time), ':', 2) as integer)
        end as occurred_minute,
        r.occurred_time as occurred_time_raw,
        trim(r.staff_id) as staff_id,
        lower(trim(r.activity)) as activity,
        lower(trim(r.setting)) as setting,
        lower(trim(r.antecedent)) as antecedent,
        lower(trim(r.behaviour)) as behaviour,
        lower(trim(r.consequence)) as consequence,
        try_cast(trim(r.intensity) as integer) as intensity,
        r.intensity as intensity_raw,
        try_cast(trim(r.duration_minutes) as integer) as duration_minutes,
        r.duration_minutes as duration_minutes_raw
    from raw.canonical_incidents as r
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
    select _batch_id, _source_row, _source_item, 10 as rule, 'occurred_on' as column_name,
        cast(occurred_on_raw as varchar) as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where occurred_on is null
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'occurred_on' as column_name,
        cast(occurred_on_raw as varchar) as value,
        'is in the future' as reason
    from typed where occurred_on > current_date
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'occurred_time' as column_name,
        cast(occurred_time_raw as varchar) as value,
        'is not a time of day (expected HH:MM, 24-hour)' as reason
    from typed where occurred_time_raw is not null and (occurred_minute is null or occurred_minute < 0 or occurred_minute >= 1440)
    union all
    select _batch_id, _source_row, _source_item, 13 as rule, 'behaviour' as column_name,
        cast(behaviour as varchar) as value,
        'is missing: an incident needs the behaviour seen' as reason
    from typed where behaviour is null or behaviour = ''
    union all
    select _batch_id, _source_row, _source_item, 14 as rule, 'intensity' as column_name,
        cast(intensity_raw as varchar) as value,
        'is not a whole number from 1 to 5' as reason
    from typed where intensity_raw is not null and (intensity is null or intensity < 1 or intensity > 5)
    union all
    select _batch_id, _source_row, _source_item, 15 as rule, 'duration_minutes' as column_name,
        cast(duration_minutes_raw as varchar) as value,
        'is not a number of zero or more' as reason
    from typed where duration_minutes_raw is not null and (duration_minutes is null or duration_minutes < 0)
    union all
    select _batch_id, _source_row, _source_item, 19 as rule, 'occurred_on' as column_name,
        cast(occurred_on_raw as varchar) as value,
        'is outside the pupil''s time on roll at this school' as reason
    from typed where occurred_on < _pupil_entry_date or occurred_on > _pupil_leaving_date
)
