-- grain: one row per school x primary need on the SEN register
select
    c.school_urn,
    c.primary_need,
    c.primary_need_name,
    c.sen_pupils,
    c.pupils_with_provision,
    c.pupils_with_matching_provision,
    c.interventions_offered_for_need,
    c.training_records_for_need
from marts.provision_need_coverage as c
where ($school_urn is null or c.school_urn = $school_urn)
    and c.school_urn <> 'TRUST'
order by c.school_urn, c.primary_need
