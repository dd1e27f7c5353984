-- grain: one row per enrolment in one group (current and ended), with the pupil's name (encrypted) and what they received
-- Names come from the one restricted table; empowered.identity decrypts them for a scope
-- allowed to see them.
select
    e.enrolment_id,
    e.pupil_key,
    e.school_urn,
    i.forename,
    i.surname,
    e.intervention_code,
    e.start_date,
    e.end_date,
    e.reason,
    e.end_reason,
    e.sessions_planned,
    e.sessions_delivered,
    e.sessions_attended,
    e.minutes_attended,
    e.pre_date,
    e.pre_score,
    e.post_date,
    e.post_score,
    e.cost_per_pupil
from core.fct_provision_enrolment as e
left join core.pupil_identity as i on i.pupil_key = e.pupil_key and i.school_urn = e.school_urn
where e.group_id = $group_id
order by e.end_date is not null, e.start_date, e.enrolment_id
