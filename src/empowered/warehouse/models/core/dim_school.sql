-- grain: one row per school
-- unique_key: [school_urn]
-- not_null: [school_urn, school_name, phase]
-- A school set up by hand (empowered school add) may not give its local authority code
-- and establishment number: the DfE number is then unknown.
select
    school_urn,
    la_code,
    estab,
    la_code || estab as dfe_number,
    school_name,
    phase,
    phase = 'special' as is_special_school,
    trust_name,
    establishment_type
from staging.stg_canonical_schools
where _is_current
