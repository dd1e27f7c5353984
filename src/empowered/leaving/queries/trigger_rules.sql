-- grain: one row per trigger rule the trust changed from the shipped one
select
    o.rule_id, o.body as rule, coalesce(u.username, 'a former account') as saved_by,
    o.saved_at
from app.trigger_rule_overrides as o
left join app.users as u on u.user_id = o.saved_by
order by o.rule_id
