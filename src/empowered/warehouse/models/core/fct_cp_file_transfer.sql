-- grain: one row per child protection file a leaver's new school received (its latest record)
-- unique_key: [transfer_key]
-- not_null: [transfer_key, pupil_key, school_urn, received_on, new_school, recorded_by]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- new_school is ciphertext. The designated safeguarding lead's reminder for a leaver goes
-- once a row for the pupil and school is here.
select
    school_urn || ':' || transfer_id as transfer_key,
    transfer_id,
    pupil_key,
    school_urn,
    sent_on,
    received_on,
    new_school,
    recorded_by,
    recorded_at
from staging.stg_canonical_cp_file_transfers
where _is_current
