-- grain: one row per strategy use that has a check-in at the use and one after it
-- The short-term "what helps" comparison needs both moods; uses without them are counted
-- separately (strategy_use_counts) so a page can say how many could not be judged.
select
    u.use_key,
    u.pupil_key,
    u.school_urn,
    u.strategy_code,
    coalesce(u.strategy_name, u.strategy_code) as strategy_name,
    u.used_on,
    u.used_minute,
    u.mood_at_use,
    u.mood_next,
    u.outcome
from marts.strategy_use_outcome as u
where u.mood_at_use is not null
    and u.mood_next is not null
    and ($school_urn is null or u.school_urn = $school_urn)
order by u.school_urn, u.pupil_key, u.used_on, u.used_minute, u.use_key
