-- grain: one row per intervention enrolment of one pupil, with what the pupil page's provision leaves out: the academic year, the staff time and the entry score's date
select
    e.enrolment_id, e.academic_year, e.in_as_of_year, e.as_of_date, e.has_session_records,
    e.minutes_delivered, i.minutes_per_session, e.staff_cost, e.materials_and_training_cost,
    e.pre_date, e.post_date
from marts.provision_enrolment as e
left join core.dim_intervention as i on i.intervention_code = e.intervention_code
where e.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, e.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, e.pupil_key))
order by e.start_date desc, e.enrolment_id
