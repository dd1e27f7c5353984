-- grain: one row per school
-- unique_key: [school_urn]
-- not_null: [school_urn, la_code, estab, school_name, phase]
select
    school_urn,
    la_code,
    estab,
    la_code || estab as dfe_number,
    school_name,
    phase,
    phase = 'special' as is_special_school,
    trust_name
from staging.stg_canonical_schools
where _is_current
