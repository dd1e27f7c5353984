-- grain: one row per strategy use typed in the app at $school (current row)
select
    s.use_id as strategy_use_id, s.pupil_key, s.used_on as date,
    printf('%02d:%02d', s.used_minute // 60, s.used_minute % 60) as time,
    s.strategy_code as strategy, s.activity, s.setting, s.outcome, s.note,
    s.staff_id as recorded_by
from staging.stg_canonical_strategy_uses as s
where s._is_current and s.school_urn = $school
    and s._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by s.used_on, s.used_minute, s.use_id
