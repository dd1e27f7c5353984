-- grain: one row per school x intervention whose target need no current SEN pupil there has
select p.school_urn, p.intervention_code, p.intervention_name
from marts.provision_without_need as p
where ($school_urn is null or p.school_urn = $school_urn)
    and p.school_urn <> 'TRUST'
order by p.school_urn, p.intervention_code
