-- grain: inserts one review event of one trigger (app.trigger_reviews is append-only:
-- nothing updates or deletes it)
insert into app.trigger_reviews (
    trigger_id, school_urn, pupil_key, rule_id, fired_on, kind, action_text, action_owner,
    action_due, decision, note, user_id, username, "at"
)
values (
    $trigger_id, $school_urn, $pupil_key, $rule_id, cast($fired_on as date), $kind,
    $action_text, $action_owner, cast($action_due as date), $decision, $note, $user_id,
    $username, cast($recorded_at as timestamp)
)
returning review_id
