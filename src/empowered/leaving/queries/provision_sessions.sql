-- grain: one row per pupil per session on a register taken in the app at $school
--   (current row)
with enrolments as (
    select enrolment_id, pupil_key, intervention_code
    from staging.stg_canonical_provision_enrolments
    where _is_current and school_urn = $school
)

select
    s.session_date, s.enrolment_id, e.pupil_key, e.intervention_code as intervention, s.group_id,
    s.delivered, s.attended, s.minutes, s.missed_reason, s.recorded_by
from staging.stg_canonical_provision_sessions as s
inner join enrolments as e on e.enrolment_id = s.enrolment_id
where s._is_current
    and s._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by s.session_date, s.group_id, s.enrolment_id
