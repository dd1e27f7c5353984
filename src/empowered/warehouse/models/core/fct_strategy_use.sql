-- grain: one row per use of a support or calming strategy with one pupil
-- unique_key: [use_key]
-- incremental:
--   by: used_on
-- not_null: [use_key, pupil_key, school_urn, used_on, strategy_code]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   strategy_code: core.dim_strategy.strategy_code
--   activity: core.dim_activity.activity
--   setting: core.dim_setting.setting
-- accepted_values:
--   outcome: [helped, partly, not_helped]
-- outcome_score puts the adult's judgement on a 0-1 scale (partly = half) for averaging.
select
    u.school_urn || ':' || u.use_id as use_key,
    u.use_id,
    u.pupil_key,
    u.school_urn,
    u.used_on,
    u.used_minute,
    m.time_slot,
    m.period_code,
    c.academic_year,
    c.term,
    c.half_term,
    c.school_week,
    c.is_school_day,
    nullif(u.staff_id, '') as staff_id,
    st.role as staff_role,
    u.strategy_code,
    nullif(u.activity, '') as activity,
    nullif(u.setting, '') as setting,
    nullif(u.outcome, '') as outcome,
    case u.outcome when 'helped' then 1.0 when 'partly' then 0.5 when 'not_helped' then 0.0 end
        as outcome_score,
    nullif(u.note, '') as note,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    u._batch_id as batch_id
from staging.stg_canonical_strategy_uses as u
left join core.dim_school_minute as m
    on m.school_urn = u.school_urn and m.minute_of_day = u.used_minute
left join core.dim_school_calendar as c
    on c.school_urn = u.school_urn and c.date_day = u.used_on
left join core.dim_staff as st on st.school_urn = u.school_urn and st.staff_id = u.staff_id
where u._is_current
