-- grain: one row per accepted version of each plan written in the app at $school (every
--   save is a version: the latest is current, the rest its history)
select
    p.plan_id, p.plan_version as version, p._is_current as current_version, p.pupil_key,
    p.plan_type, p.status, p.start_date, p.end_date, p.next_review_due, p.strengths,
    p.needs_communication, p.needs_cognition, p.needs_semh, p.needs_sensory,
    p.important_to_me, p.how_to_support, p.agreed_on, p.agreed_by, p.agreed_with,
    p.saved_by, p.saved_at
from staging.stg_canonical_plans as p
where p._reject_reason is null and p.school_urn = $school
    and p._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by p.plan_id, p.plan_version, p._batch_id
