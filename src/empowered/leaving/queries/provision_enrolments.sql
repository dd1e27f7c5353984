-- grain: one row per pupil placed in an intervention in the app at $school (current row)
select
    e.enrolment_id, e.pupil_key, e.intervention_code as intervention, e.group_id, e.reason,
    e.start_date, e.end_date, e.end_reason, e.sessions_planned, e.pre_date, e.pre_score, e.post_date,
    e.post_score, e.staff_id as staff
from staging.stg_canonical_provision_enrolments as e
where e._is_current and e.school_urn = $school
    and e._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by e.start_date, e.enrolment_id
