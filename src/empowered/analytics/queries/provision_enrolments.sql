-- grain: one row per pupil x intervention enrolment
select
    e.enrolment_id,
    e.pupil_key,
    e.school_urn,
    e.intervention_code,
    e.intervention_name,
    e.measure,
    e.pre_score,
    e.post_score,
    e.ratio_gain,
    e.cost_per_pupil,
    e.sessions_planned,
    e.sessions_delivered
from marts.provision_enrolment as e
where ($school_urn is null or e.school_urn = $school_urn)
order by e.school_urn, e.intervention_code, e.enrolment_id
