-- grain: one row for one school: its local authority and region as the DfE's files name
-- them (meta.dfe_local_authority, filled when a DfE file is loaded), matched on the
-- school's three-digit LA code; none when no loaded file names its LA.
select a.new_la_code, a.la_name, a.region_code, a.region_name
from core.dim_school as s
join meta.dfe_local_authority as a on a.old_la_code = s.la_code
where s.school_urn = $school_urn
