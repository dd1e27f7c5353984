-- grain: one row per use of a support or calming strategy with one pupil
-- unique_key: [use_key]
-- incremental:
--   by: pupil_key
--   since: school_week
--   lookback: 0
-- not_null: [use_key, pupil_key, school_urn, used_on, strategy_code, has_follow_up]
-- relationships:
--   use_key: core.fct_strategy_use.use_key
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   strategy_code: core.dim_strategy.strategy_code
-- accepted_values:
--   outcome: [helped, partly, not_helped]
-- checks:
--   - name: follow_up_within_the_window
--     sql: >-
--       select * from marts.strategy_use_outcome
--       where minutes_to_next < 1 or minutes_to_next > 60
--       or has_follow_up <> (next_observation_key is not null)
-- Short-term effect of a strategy (ANALYTICS.md section 1): each use is paired with the
-- same pupil's mood at the use and the next check-in soon after, on the same day at the
-- same school. "At the use" is the latest check-in from look_back_minutes before the use
-- up to the use itself (ties on the minute: the highest observation id); "next" is the
-- first check-in after the use, up to follow_up_minutes later (ties: the lowest
-- observation id), so a check-in at the very minute of the use is the baseline, never
-- the follow-up. calmer compares moods and is null when either is missing; the adult's
-- own judgement (outcome, outcome_score) is kept beside it.
-- A use is paired only with check-ins on its own day, so with its own school week: a day of
-- check-ins rewrites the uses of that week on (incremental since school_week), not the
-- pupil's year.
-- Pairing is an equality join on pupil, school and day plus a minute range, then
-- row_number(): portable to Spark (no ASOF join) and cheap, as a pupil has only a few
-- check-ins a day.
with params as (
    -- The windows: a check-in up to 10 minutes before the use still shows how the child
    -- was when the strategy was chosen; 60 minutes is long enough for a calming strategy
    -- to act and short enough that the check-in still reflects it, not the next lesson.
    select 10 as look_back_minutes, 60 as follow_up_minutes
),

uses as (
    select
        u.use_key,
        u.pupil_key,
        u.school_urn,
        u.used_on,
        u.used_minute,
        u.used_minute - p.look_back_minutes as window_start,
        u.used_minute + p.follow_up_minutes as window_end
    from core.fct_strategy_use as u
    cross join params as p
    where u.used_minute is not null
),

candidates as (
    select
        u.use_key,
        u.used_minute,
        o.observation_id,
        o.observed_minute,
        o.mood,
        o.engagement,
        o.regulation
    from uses as u
    inner join core.fct_observation as o
        on o.pupil_key = u.pupil_key
        and o.school_urn = u.school_urn
        and o.observed_on = u.used_on
        and o.observed_minute >= u.window_start
        and o.observed_minute <= u.window_end
),

at_use as (
    select
        use_key,
        observation_id,
        mood,
        engagement,
        regulation,
        row_number() over (
            partition by use_key order by observed_minute desc, observation_id desc
        ) as n
    from candidates
    where observed_minute <= used_minute
),

next_after as (
    select
        use_key,
        observation_id,
        observed_minute - used_minute as minutes_to_next,
        mood,
        engagement,
        regulation,
        row_number() over (
            partition by use_key order by observed_minute, observation_id
        ) as n
    from candidates
    where observed_minute > used_minute
)

select
    u.use_key,
    u.pupil_key,
    u.school_urn,
    u.used_on,
    u.used_minute,
    u.academic_year,
    u.term,
    u.school_week,
    u.strategy_code,
    s.strategy_name,
    s.category as strategy_category,
    u.activity,
    u.setting,
    u.time_slot,
    u.period_code,
    u.staff_role,
    u.outcome,
    u.outcome_score,
    a.mood as mood_at_use,
    a.engagement as engagement_at_use,
    a.regulation as regulation_at_use,
    -- Candidates are the use's own school's check-ins, so a school and id name them.
    u.school_urn || ':' || a.observation_id as at_use_observation_key,
    n.mood as mood_next,
    n.engagement as engagement_next,
    n.regulation as regulation_next,
    u.school_urn || ':' || n.observation_id as next_observation_key,
    n.minutes_to_next,
    n.mood - a.mood as mood_change,
    case when n.mood is not null and a.mood is not null then n.mood > a.mood end as calmer,
    n.observation_id is not null as has_follow_up,
    u.batch_id  -- where it came from (views.provenance)
from core.fct_strategy_use as u
left join core.dim_strategy as s on s.strategy_code = u.strategy_code
left join at_use as a on a.use_key = u.use_key and a.n = 1
left join next_after as n on n.use_key = u.use_key and n.n = 1
