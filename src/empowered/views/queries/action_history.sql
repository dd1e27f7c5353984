-- grain: one row per accepted version of one action, oldest first
select h.version_number, h.status, h.status_by, h.status_at, h.owner, h.due_date, h.is_current
from core.fct_action_history as h
where h.action_key = $action_key
order by h.version_number
