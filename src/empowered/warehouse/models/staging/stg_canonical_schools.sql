-- grain: one row per landed row of schools.csv, accepted or rejected
-- unique_key: [_batch_id, _source_row]
-- not_null: [_batch_id, _source_row, _source_file, _is_current]
-- checks:
--   - name: one_current_row_per_key
--     sql: >-
--       select school_urn, count(*) as n from staging.stg_canonical_schools
--       where _is_current group by school_urn having count(*) > 1
with typed as (
    select
        r._batch_id,
        r._source_row,
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

keyed as (
    select
        *,
        min(_source_row) over (partition by _batch_id, school_urn) as _first_row_with_key
    from typed
),

issues as (
    select _batch_id, _source_row, 1 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value, 'is not a 6-digit unique reference number (URN)' as reason
    from keyed where not regexp_matches(coalesce(school_urn, ''), '^[0-9]{6}$')
    union all
    select _batch_id, _source_row, 2 as rule, 'la_code' as column_name,
        cast(la_code as varchar) as value, 'is not a 3-digit local authority code' as reason
    from keyed where not regexp_matches(coalesce(la_code, ''), '^[0-9]{3}$')
    union all
    select _batch_id, _source_row, 3 as rule, 'estab' as column_name,
        cast(estab as varchar) as value, 'is not a 4-digit establishment number' as reason
    from keyed where not regexp_matches(coalesce(estab, ''), '^[0-9]{4}$')
    union all
    select _batch_id, _source_row, 4 as rule, 'phase' as column_name,
        cast(phase_raw as varchar) as value, 'is not one of: primary, secondary, all-through, special, alternative provision' as reason
    from keyed where phase is null or phase not in ('primary', 'secondary', 'all-through', 'special', 'alternative provision')
    union all
    select _batch_id, _source_row, 90 as rule, 'school_urn' as column_name,
        cast(school_urn as varchar) as value, 'repeats the school on row ' || cast(_first_row_with_key as varchar) || ' of this file' as reason
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
        partition by school_urn, _reject_reason is null
        order by _batch_id desc, _source_row desc
    ) = 1, false) as _is_current
from checked
