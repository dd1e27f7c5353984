-- grain: one row per outcome in one plan now (imported or written in the app): an
-- outcome taken out of the plan in a later version is not reviewed (in_plan false)
select o.outcome_id, o.area_of_need, o.outcome_text
from core.fct_plan_outcome as o
where o.plan_id = $plan_id and o.in_plan
order by o.outcome_id
