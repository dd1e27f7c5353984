-- grain: one row per review event (acknowledged, action added, decision recorded) of the
-- triggers of every school in scope, for pupils in scope, oldest first
-- (app.trigger_reviews, append-only): the trust-wide home page's one question for them all
select
    r.review_id, r.trigger_id, r.school_urn, r.pupil_key, r.rule_id, r.fired_on, r.kind,
    r.action_text, r.action_owner, r.action_due, r.decision, r.note, r.user_id, r.username,
    r."at"
from app.trigger_reviews as r
where ($scope_schools is null or list_contains($scope_schools, r.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, r.pupil_key))
order by r."at", r.review_id
