-- grain: one row per trigger rule the trust changed from the shipped one
select rule_id, body as rule, saved_by, saved_at from app.trigger_rule_overrides order by rule_id
