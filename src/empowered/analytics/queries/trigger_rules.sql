-- grain: one row per trigger rule the school has configured
select
    r.rule_id,
    r.label,
    r.kind,
    r.threshold,
    r.window_school_weeks,
    r.components,
    r.wording,
    r.enabled
from meta.trigger_rules as r
order by r.rule_id
