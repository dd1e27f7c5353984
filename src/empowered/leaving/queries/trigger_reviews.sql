-- grain: one row per decision staff recorded on a safeguarding trigger at $school
select
    r.review_id, r.pupil_key, r.fired_on, r.rule_id, r.kind, r.decision, r.note,
    r.action_text as action, r.action_owner, r.action_due, r.username as decided_by,
    r.at as decided_at
from app.trigger_reviews as r
where r.school_urn = $school
order by r.at, r.review_id
