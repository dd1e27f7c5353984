-- grain: one row per landed row of schools.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row, _source_item]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- natural_key: [school_urn]
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
        trim(r.la_code) as la_code,
        trim(r.estab) as estab,
        trim(r.school_name) as school_name,
        lower(trim(r.phase)) as phase,
        r.phase as phase_raw,
        trim(r.trust_name) as trust_name
    from raw.canonical_schools as r
),

issues as (
    select _batch_id, _source_row, _source_item, 1 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value,
        'is not a 6-digit unique reference number (URN)' as reason
    from typed where not regexp_matches(coalesce(school_urn, ''), '^[0-9]{6}$')
    union all
    select _batch_id, _source_row, _source_item, 2 as rule, 'la_code' as column_name,
        cast(la_code as varchar) as value,
        'is not a 3-digit local authority code' as reason
    from typed where not regexp_matches(coalesce(la_code, ''), '^[0-9]{3}$')
    union all
    select _batch_id, _source_row, _source_item, 3 as rule, 'estab' as column_name,
        cast(estab as varchar) as value,
        'is not a 4-digit establishment number' as reason
    from typed where not regexp_matches(coalesce(estab, ''), '^[0-9]{4}$')
    union all
    select _batch_id, _source_row, _source_item, 4 as rule, 'phase' as column_name,
        cast(phase_raw as varchar) as value,
        'is not one of: primary, secondary, all-through, special, alternative provision' as reason
    from typed where phase is null or phase not in ('primary', 'secondary', 'all-through', 'special', 'alternative provision')
)
