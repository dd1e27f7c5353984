-- grain: one row per trigger whose actions agreed in the app (source 'trigger', ref the
-- trigger's id) are all closed, marked done or cancelled, for pupils in scope, at one
-- school or (without $school_urn) every school in scope
-- A trigger stays "action open" until then: the review log records that an action was
-- agreed, and the action's own status (core.fct_action) says whether it is still open.
select
    a.ref as trigger_id,
    a.school_urn,
    count(*) as actions,
    max(coalesce(a.status_at, cast(a.completed_on as timestamp))) as closed_at
from core.fct_action as a
where a.source = 'trigger'
    and a.ref is not null
    and (cast($school_urn as varchar) is null or a.school_urn = cast($school_urn as varchar))
    and ($scope_schools is null or list_contains($scope_schools, a.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, a.pupil_key))
group by a.ref, a.school_urn
having not bool_or(a.is_open)
