-- grain: one row per pupil (pseudonymous key only: no name, UPN or date of birth here)
-- unique_key: [pupil_key]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, is_eal]
-- relationships:
--   school_urn: core.dim_school.school_urn
-- A pupil who moved between the trust's schools is described by their latest enrolment.
with ranked as (
    select
        p.*,
        row_number() over (
            partition by p.pupil_key
            order by p.leaving_date is null desc, p.entry_date desc, p._batch_id desc, p._source_row desc
        ) as n
    from staging.stg_canonical_pupils as p
    where p._is_current
),

-- The school's own EAL flag (an export's EAL column), latest first: it wins over the
-- language, which an MIS may hold as "English" for a pupil the school records as EAL.
eal_flags as (
    select
        pupil_key,
        eal,
        row_number() over (
            partition by pupil_key
            order by effective_date desc, _batch_id desc, _source_row desc
        ) as n
    from staging.stg_canonical_characteristics
    where _is_current and eal is not null
)

select
    r.pupil_key,
    r.school_urn,
    r.sex,
    r.ethnicity,
    e.major_group as ethnicity_group,
    r.first_language,
    -- English as an additional language: the school's flag when given, else a first
    -- language known and not English (ENG, or ENB "believed to be English").
    coalesce(
        f.eal, r.first_language is not null and r.first_language not in ('ENG', 'ENB'), false
    ) as is_eal,
    r.entry_date,
    r.leaving_date,
    r.leaving_date is null as is_on_roll
from ranked as r
left join reference.ethnicity as e on e.code = r.ethnicity
left join eal_flags as f on f.pupil_key = r.pupil_key and f.n = 1
where r.n = 1
