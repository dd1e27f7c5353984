-- grain: one row per pupil per school per trigger rule per academic year in which the rule fired
-- unique_key: [pupil_key, school_urn, rule_id, academic_year]
-- not_null: [pupil_key, school_urn, rule_id, rule_label, kind, academic_year, first_fired_on, last_fired_on, weeks_fired, value_at_first, peak_value, threshold, window_start, window_end, latest_value, is_active, wording]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   rule_id: meta.trigger_rules.rule_id
-- accepted_values:
--   kind: [unauthorised_sessions, unauthorised_sessions_in_term, absence_rate, suspensions]
-- checks:
--   - name: fired_values_reach_the_threshold
--     sql: >-
--       select * from marts.safeguarding_trigger
--       where value_at_first < threshold or peak_value < value_at_first
--       or last_fired_on < first_fired_on or window_end < window_start
-- A trigger says which rule fired, over which window, on which figures, so that an adult
-- can judge whether a conversation is worth having: it is evidence, not a label or a score.
-- The rules are data: they come from meta.trigger_rules (written from the trigger rules
-- file before every build) and are joined here, never pasted into the SQL. Disabled rules
-- are ignored; combined rules (all_of other rules and early-sign indicators) are evaluated
-- by the analytics, not here.
-- Every rule is evaluated at the end of each school week in which the pupil had a possible
-- session (marts.attendance_pupil_week), within one academic year:
--   unauthorised_sessions          unauthorised sessions in this week and the previous
--                                  window_school_weeks - 1 school weeks (a self-join on
--                                  school_week, so the window is a number of school weeks
--                                  whatever the pupil's own marks)
--   unauthorised_sessions_in_term  unauthorised sessions in the term to date
--   absence_rate                   sessions missed / possible in the term or the year to
--                                  date, once min_possible_sessions have been possible
--   suspensions                    suspensions starting in the window of school weeks
-- A rule fires in a week when its value reaches the threshold (value >= threshold).
-- first_fired_on and last_fired_on are the last school day of the first and last week it
-- fired; window_start and window_end bound the first firing window (the window is cut at
-- the start of the academic year). latest_value is the value in the pupil's latest week
-- of that year; is_active means the rule fired in that week and that week is the school's
-- current one (the week of its as_of_date: its latest attendance session).
with rules as (
    select
        rule_id,
        label,
        kind,
        threshold,
        window_school_weeks,
        period,
        min_possible_sessions,
        wording
    from meta.trigger_rules
    where enabled
        and kind in (
            'unauthorised_sessions', 'unauthorised_sessions_in_term', 'absence_rate',
            'suspensions'
        )
),

school_weeks as (
    select
        school_urn,
        academic_year,
        school_week,
        min(date_day) as week_start,
        max(date_day) as week_end
    from core.dim_school_calendar
    where is_school_day and school_week is not null
    group by school_urn, academic_year, school_week
),

term_starts as (
    select school_urn, academic_year, term, min(date_day) as term_start
    from core.dim_school_calendar
    where is_school_day and term is not null
    group by school_urn, academic_year, term
),

year_starts as (
    select school_urn, academic_year, min(date_day) as year_start
    from core.dim_school_calendar
    where is_school_day
    group by school_urn, academic_year
),

weeks as (
    select
        pupil_key,
        school_urn,
        academic_year,
        term,
        school_week,
        week_start,
        week_end,
        possible,
        unauthorised,
        authorised + unauthorised as absent
    from marts.attendance_pupil_week
),

-- Term-to-date and year-to-date totals. school_week is unique within each partition, so
-- the running order is deterministic without a further tie-breaker.
running as (
    select
        w.*,
        sum(w.unauthorised) over (
            partition by w.pupil_key, w.school_urn, w.academic_year, w.term
            order by w.school_week rows between unbounded preceding and current row
        ) as unauthorised_term,
        sum(w.possible) over (
            partition by w.pupil_key, w.school_urn, w.academic_year, w.term
            order by w.school_week rows between unbounded preceding and current row
        ) as possible_term,
        sum(w.absent) over (
            partition by w.pupil_key, w.school_urn, w.academic_year, w.term
            order by w.school_week rows between unbounded preceding and current row
        ) as absent_term,
        sum(w.possible) over (
            partition by w.pupil_key, w.school_urn, w.academic_year
            order by w.school_week rows between unbounded preceding and current row
        ) as possible_year,
        sum(w.absent) over (
            partition by w.pupil_key, w.school_urn, w.academic_year
            order by w.school_week rows between unbounded preceding and current row
        ) as absent_year
    from weeks as w
),

-- Only pupil-years with enough unauthorised sessions in the whole year could reach a
-- rolling threshold: the self-join below is limited to them.
year_unauthorised as (
    select pupil_key, school_urn, academic_year, sum(unauthorised) as unauthorised
    from weeks
    group by pupil_key, school_urn, academic_year
),

rolling_unauthorised as (
    select
        w.pupil_key,
        w.school_urn,
        w.academic_year,
        w.school_week,
        w.week_end,
        r.rule_id,
        cast(sum(p.unauthorised) as double) as value,
        cast(null as bigint) as possible_in_period,
        greatest(w.school_week - r.window_school_weeks + 1, 1) as window_first_week
    from weeks as w
    inner join rules as r on r.kind = 'unauthorised_sessions'
    inner join year_unauthorised as y
        on y.pupil_key = w.pupil_key and y.school_urn = w.school_urn
        and y.academic_year = w.academic_year and y.unauthorised >= r.threshold
    inner join weeks as p
        on p.pupil_key = w.pupil_key and p.school_urn = w.school_urn
        and p.academic_year = w.academic_year
        and p.school_week between w.school_week - r.window_school_weeks + 1 and w.school_week
    group by
        w.pupil_key, w.school_urn, w.academic_year, w.school_week, w.week_end, r.rule_id,
        r.window_school_weeks
),

suspension_weeks as (
    select e.pupil_key, e.school_urn, c.academic_year, c.school_week, count(*) as suspensions
    from core.fct_exclusion as e
    inner join core.dim_school_calendar as c
        on c.school_urn = e.school_urn and c.date_day = e.start_date
    where e.category = 'suspension' and c.school_week is not null
    group by e.pupil_key, e.school_urn, c.academic_year, c.school_week
),

rolling_suspensions as (
    select
        w.pupil_key,
        w.school_urn,
        w.academic_year,
        w.school_week,
        w.week_end,
        r.rule_id,
        cast(sum(s.suspensions) as double) as value,
        cast(null as bigint) as possible_in_period,
        greatest(w.school_week - r.window_school_weeks + 1, 1) as window_first_week
    from weeks as w
    inner join rules as r on r.kind = 'suspensions'
    inner join suspension_weeks as s
        on s.pupil_key = w.pupil_key and s.school_urn = w.school_urn
        and s.academic_year = w.academic_year
        and s.school_week between w.school_week - r.window_school_weeks + 1 and w.school_week
    group by
        w.pupil_key, w.school_urn, w.academic_year, w.school_week, w.week_end, r.rule_id,
        r.window_school_weeks
),

rolling as (
    select * from rolling_unauthorised
    union all
    select * from rolling_suspensions
),

rolling_evaluated as (
    select
        g.pupil_key,
        g.school_urn,
        g.academic_year,
        g.school_week,
        g.rule_id,
        g.value,
        g.possible_in_period,
        sw.week_start as window_start,
        g.week_end as window_end
    from rolling as g
    inner join school_weeks as sw
        on sw.school_urn = g.school_urn and sw.academic_year = g.academic_year
        and sw.school_week = g.window_first_week
),

to_date_evaluated as (
    select
        u.pupil_key,
        u.school_urn,
        u.academic_year,
        u.school_week,
        r.rule_id,
        case
            when r.kind = 'unauthorised_sessions_in_term' then cast(u.unauthorised_term as double)
            when r.period = 'term'
                then cast(u.absent_term as double) / cast(u.possible_term as double)
            else cast(u.absent_year as double) / cast(u.possible_year as double)
        end as value,
        case
            when r.kind = 'unauthorised_sessions_in_term' then cast(null as bigint)
            when r.period = 'term' then u.possible_term
            else u.possible_year
        end as possible_in_period,
        case
            when r.kind = 'unauthorised_sessions_in_term' or r.period = 'term'
                then coalesce(ts.term_start, u.week_start)
            else coalesce(ys.year_start, u.week_start)
        end as window_start,
        u.week_end as window_end
    from running as u
    inner join rules as r on r.kind in ('unauthorised_sessions_in_term', 'absence_rate')
    left join term_starts as ts
        on ts.school_urn = u.school_urn and ts.academic_year = u.academic_year
        and ts.term = u.term
    left join year_starts as ys
        on ys.school_urn = u.school_urn and ys.academic_year = u.academic_year
),

evaluated as (
    select
        e.*,
        e.value >= r.threshold
            and (r.min_possible_sessions is null or e.possible_in_period >= r.min_possible_sessions)
            as fired
    from (
        select * from rolling_evaluated
        union all
        select * from to_date_evaluated
    ) as e
    inner join rules as r on r.rule_id = e.rule_id
),

fired as (
    select
        pupil_key,
        school_urn,
        rule_id,
        academic_year,
        min(school_week) as first_week,
        max(school_week) as last_week,
        count(*) as weeks_fired,
        max(value) as peak_value
    from evaluated
    where fired
    group by pupil_key, school_urn, rule_id, academic_year
),

pupil_last_week as (
    select pupil_key, school_urn, academic_year, max(school_week) as last_week
    from weeks
    group by pupil_key, school_urn, academic_year
),

school_now as (
    select
        y.school_urn,
        y.academic_year,
        y.as_of_date,
        max(c.school_week) as current_week
    from (
        select school_urn, academic_year, max(as_of_date) as as_of_date
        from marts.attendance_pupil_year
        where is_latest_year
        group by school_urn, academic_year
    ) as y
    inner join core.dim_school_calendar as c
        on c.school_urn = y.school_urn and c.academic_year = y.academic_year
        and c.date_day <= y.as_of_date and c.is_school_day
    group by y.school_urn, y.academic_year, y.as_of_date
)

select
    f.pupil_key,
    f.school_urn,
    f.rule_id,
    r.label as rule_label,
    r.kind,
    f.academic_year,
    fe.window_end as first_fired_on,
    last_fired.week_end as last_fired_on,
    f.weeks_fired,
    fe.value as value_at_first,
    f.peak_value,
    r.threshold,
    r.window_school_weeks,
    r.period,
    r.min_possible_sessions,
    fe.window_start,
    fe.window_end,
    coalesce(latest.value, 0.0) as latest_value,
    coalesce(
        latest.fired and pl.last_week = sn.current_week and f.academic_year = sn.academic_year,
        false
    ) as is_active,
    r.wording
from fired as f
inner join rules as r on r.rule_id = f.rule_id
inner join evaluated as fe
    on fe.pupil_key = f.pupil_key and fe.school_urn = f.school_urn
    and fe.rule_id = f.rule_id and fe.academic_year = f.academic_year
    and fe.school_week = f.first_week
inner join weeks as last_fired
    on last_fired.pupil_key = f.pupil_key and last_fired.school_urn = f.school_urn
    and last_fired.academic_year = f.academic_year and last_fired.school_week = f.last_week
inner join pupil_last_week as pl
    on pl.pupil_key = f.pupil_key and pl.school_urn = f.school_urn
    and pl.academic_year = f.academic_year
left join evaluated as latest
    on latest.pupil_key = f.pupil_key and latest.school_urn = f.school_urn
    and latest.rule_id = f.rule_id and latest.academic_year = f.academic_year
    and latest.school_week = pl.last_week
left join school_now as sn on sn.school_urn = f.school_urn
