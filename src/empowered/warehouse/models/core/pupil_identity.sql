-- grain: one row per pupil: the ONE restricted table holding names, UPN and date of birth
-- unique_key: [pupil_key]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, upn]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
-- Marts and analytics never read this table; only roles allowed to see identity join it.
-- Every identifier here is ciphertext (empowered.sources.protect); empowered.identity is
-- the one module that decrypts it. upn_bidx finds a pupil's rows still in raw.
-- Identity comes from the same enrolment dim_pupil describes (its school_urn).
select
    p.pupil_key,
    p.upn,
    p.upn_bidx,
    p.school_urn,
    p.mis_id,
    p.forename,
    p.surname,
    p.date_of_birth
from staging.stg_canonical_pupils as p
inner join core.dim_pupil as d on d.pupil_key = p.pupil_key and d.school_urn = p.school_urn
where p._is_current
