-- grain: one row per outcome of one plan (imported or written in the app)
select o.outcome_id, o.area_of_need, o.outcome_text
from core.fct_plan_outcome as o
where o.plan_id = $plan_id
order by o.outcome_id
