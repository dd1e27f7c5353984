-- grain: one row per current plan outcome of one pupil per catalogue strategy named for it
select
    s.outcome_id, s.plan_id, s.strategy_code, s.strategy_name, s.uses, s.calmer_count,
    s.uses_with_mood_change, s.last_used_on
from marts.strategy_plan_outcome as s
where s.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, s.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, s.pupil_key))
order by s.outcome_id, s.strategy_name, s.strategy_code
