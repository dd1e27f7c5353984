-- grain: one row per landed row of pupils.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn, upn_bidx]
-- Identity (UPN, MIS id, names, date of birth) is ciphertext from landing and passes
-- through untouched; rules and keys use the blind indexes and verdicts landed beside it.
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
        r.upn,
        r.upn_bidx,
        pk.pupil_key,
        coalesce(pk.upn_is_valid, false) as _upn_is_valid,
        r.mis_id,
        r.mis_id_bidx,
        r.forename,
        r.surname,
        r.date_of_birth,
        r.dob_check as _dob_check,
        r.name_bidx,
        r.name_reversed_bidx,
        r.name_dob_bidx,
        r.name_dob_reversed_bidx,
        upper(trim(r.sex)) as sex,
        upper(trim(r.ethnicity)) as ethnicity,
        upper(trim(r.first_language)) as first_language,
        case
            when regexp_matches(trim(r.entry_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.entry_date) as date)
            when regexp_matches(trim(r.entry_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.entry_date), '/', 3) || '-' || lpad(split_part(trim(r.entry_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.entry_date), '/', 1), 2, '0') as date)
        end as entry_date,
        r.entry_date as entry_date_raw,
        case
            when regexp_matches(trim(r.leaving_date), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') then try_cast(trim(r.leaving_date) as date)
            when regexp_matches(trim(r.leaving_date), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
                split_part(trim(r.leaving_date), '/', 3) || '-' || lpad(split_part(trim(r.leaving_date), '/', 2), 2, '0')
                || '-' || lpad(split_part(trim(r.leaving_date), '/', 1), 2, '0') as date)
        end as leaving_date,
        r.leaving_date as leaving_date_raw
    from raw.canonical_pupils as r
    left join staging.stg_canonical_school_list as sk on sk.school_urn = trim(r.school_urn)
    left join raw.pupil_pseudonym as pk on pk.upn_bidx = r.upn_bidx
),

issues as (
    select _batch_id, _source_row, _source_item, 5 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a school in this export (schools.csv)' as reason
    from typed where not _school_known
    union all
    select _batch_id, _source_row, _source_item, 6 as rule, 'upn' as column_name,
        cast(null as varchar) as value,
        'is missing: every pupil needs a UPN' as reason
    from typed where upn_bidx is null
    union all
    select _batch_id, _source_row, _source_item, 7 as rule, 'upn' as column_name,
        '(withheld)' as value,
        'is not a valid UPN (13 characters with a correct check letter)' as reason
    from typed where upn_bidx is not null and not _upn_is_valid
    union all
    select _batch_id, _source_row, _source_item, 10 as rule, 'date_of_birth' as column_name,
        case when date_of_birth is not null then '(withheld)' end as value,
        'is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where _dob_check = 'missing'
    union all
    select _batch_id, _source_row, _source_item, 11 as rule, 'date_of_birth' as column_name,
        '(withheld)' as value,
        'is not a plausible date of birth for a pupil' as reason
    from typed where _dob_check = 'implausible'
    union all
    select _batch_id, _source_row, _source_item, 12 as rule, 'sex' as column_name,
        cast(sex as varchar) as value,
        'is not one of: F, M' as reason
    from typed where sex is not null and sex not in ('F', 'M')
    union all
    select _batch_id, _source_row, _source_item, 13 as rule, 'entry_date' as column_name,
        cast(entry_date_raw as varchar) as value,
        'is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where entry_date_raw is not null and entry_date is null
    union all
    select _batch_id, _source_row, _source_item, 14 as rule, 'leaving_date' as column_name,
        cast(leaving_date_raw as varchar) as value,
        'is not a date (expected DD/MM/YYYY or YYYY-MM-DD)' as reason
    from typed where leaving_date_raw is not null and leaving_date is null
    union all
    select _batch_id, _source_row, _source_item, 15 as rule, 'leaving_date' as column_name,
        cast(leaving_date_raw as varchar) as value,
        'is before the entry date' as reason
    from typed where leaving_date < entry_date
)
