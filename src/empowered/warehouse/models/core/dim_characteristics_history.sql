-- grain: one row per pupil per school per period of unchanged characteristics
-- unique_key: [pupil_key, school_urn, valid_from]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, valid_from, is_current, is_eal]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- valid_to is exclusive (the day the next record takes effect); null while current.
-- EAL is the school's own EAL flag where a record gives it (an export's EAL column), else
-- the pupil's (dim_pupil: the latest flag given, or their first language).
with changes as (
    select
        pupil_key,
        school_urn,
        effective_date as valid_from,
        lead(effective_date) over (
            partition by pupil_key, school_urn order by effective_date, _batch_id, _source_row
        ) as valid_to,
        year_group,
        reg_group,
        fsm,
        pupil_premium,
        looked_after,
        service_child,
        eal,
        fsm6
    from staging.stg_canonical_characteristics
    where _is_current
)

select
    c.pupil_key,
    c.school_urn,
    c.valid_from,
    c.valid_to,
    c.valid_to is null as is_current,
    c.year_group,
    yg.key_stage,
    c.reg_group,
    c.fsm,
    c.pupil_premium,
    coalesce(c.eal, p.is_eal) as is_eal,
    c.fsm6 as ever_fsm6,
    c.looked_after,
    c.service_child
from changes as c
inner join core.dim_pupil as p on p.pupil_key = c.pupil_key
left join reference.year_group as yg on yg.code = c.year_group
