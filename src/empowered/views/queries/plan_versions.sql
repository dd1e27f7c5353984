-- grain: one row per accepted version of each plan of one pupil (an imported plan without
--   versions: each accepted row), newest first
-- Staging keeps every accepted row of a plan_id: the latest is current, the rest history.
select
    p.plan_id, p.school_urn, p.plan_type, p.start_date, p.end_date, p.next_review_due,
    p.strengths, p.needs_communication, p.needs_cognition, p.needs_semh, p.needs_sensory,
    p.important_to_me, p.how_to_support, p.plan_version, p.status, p.agreed_on,
    p.agreed_by, p.agreed_with, p.saved_by, p.saved_at, p._is_current as is_current,
    p._batch_id as batch_id
from staging.stg_canonical_plans as p
where p.pupil_key = $pupil_key
    and p._reject_reason is null
    and ($scope_schools is null or list_contains($scope_schools, p.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, p.pupil_key))
order by p.start_date desc, p.plan_id, p._batch_id desc
