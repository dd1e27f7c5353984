-- grain: one row per intervention enrolment of one pupil
select
    e.enrolment_id, e.school_urn, e.intervention_code, e.intervention_name, e.area_of_need,
    e.need_matches, e.start_date, e.end_date, e.is_current, e.sessions_planned,
    e.sessions_delivered, e.has_session_records, e.delivery_rate, e.measure, e.pre_score, e.post_score,
    e.score_gain, e.ratio_gain, e.cost_per_pupil, e.batch_id
from marts.provision_enrolment as e
where e.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, e.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, e.pupil_key))
order by e.start_date desc, e.enrolment_id
