-- grain: one row per pupil: the ONE restricted table holding names, UPN and date of birth
-- unique_key: [pupil_key]
-- not_null: [pupil_key, upn]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
-- Marts and analytics never read this table; only roles allowed to see identity join it.
with ranked as (
    select
        p.*,
        row_number() over (
            partition by p.pupil_key
            order by p.leaving_date is null desc, p.entry_date desc, p._batch_id desc, p._source_row desc
        ) as n
    from staging.stg_canonical_pupils as p
    where p._is_current
)

select
    pupil_key,
    upn,
    school_urn,
    mis_id,
    forename,
    surname,
    date_of_birth
from ranked
where n = 1
