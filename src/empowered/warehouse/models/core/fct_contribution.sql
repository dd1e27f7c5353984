-- grain: one row per contribution (a note, perhaps with a report) from a visiting professional or the SENCo
-- unique_key: [contribution_key]
-- incremental:
--   by: pupil_key
-- not_null: [contribution_key, pupil_key, school_urn, area, visited_on, author, batch_id]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- Title, note and file name stay ciphertext here (decrypted for a page by empowered.identity
-- only); ``batch_id`` and ``file_sha256`` are its provenance (meta.batches: source, when).
select
    school_urn || ':' || contribution_id as contribution_key,
    contribution_id,
    pupil_key,
    school_urn,
    area,
    title,
    note,
    visited_on,
    author,
    author_role,
    organisation,
    file_name,
    nullif(file_sha256, '') as file_sha256,
    saved_at,
    _batch_id as batch_id
from staging.stg_canonical_contributions
where _is_current
