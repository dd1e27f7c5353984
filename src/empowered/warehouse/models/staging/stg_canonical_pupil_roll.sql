-- grain: one row per pupil per school, for pupils accepted from pupils.csv
-- unique_key: [school_urn, upn]
-- not_null: [school_urn, upn, pupil_key]
-- The lookup every pupil-linked staging model uses: is this UPN a pupil on roll at this
-- school, and what is their pseudonymous key.
select distinct school_urn, upn, pupil_key
from staging.stg_canonical_pupils
where _reject_reason is null
