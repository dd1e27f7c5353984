-- grain: one row per safeguarding concern recorded about a pupil (its latest version)
-- unique_key: [concern_key]
-- not_null: [concern_key, concern_id, pupil_key, school_urn, concern_on, category, concern_text, recorded_by, batch_id, source_file]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   category: [physical, emotional, sexual, neglect, online, self_harm, child_on_child, domestic_abuse, exploitation, radicalisation, honour_based, mental_health, missing_education, other]
-- concern_text and people_present are ciphertext: no layer holds a concern's words in
-- clear. Only the designated safeguarding lead's pages (and those the concern is shared
-- with) read them, through empowered.views.concerns.
select
    school_urn || ':' || concern_id as concern_key,
    concern_id,
    pupil_key,
    school_urn,
    concern_on,
    concern_minute,
    nullif(place, '') as place,
    category,
    concern_text,
    nullif(people_present, '') as people_present,
    recorded_by,
    recorded_at,
    _batch_id as batch_id,
    _source_file as source_file
from staging.stg_canonical_concerns
where _is_current
