-- grain: one row per pupil per school per trigger rule per academic year in which the rule fired
-- unique_key: [pupil_key, school_urn, rule_id, academic_year]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, rule_id, rule_label, kind, academic_year, first_fired_on, last_fired_on, weeks_fired, value_at_first, peak_value, threshold, window_start, window_end, latest_value, is_active, wording, evidence_source]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   rule_id: meta.trigger_rules.rule_id
-- accepted_values:
--   kind: [unauthorised_sessions, unauthorised_sessions_in_term, absence_rate, suspensions]
--   evidence_source: [session_marks, school_summary]
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
--                                  window_school_weeks - 1 school weeks of the school's
--                                  calendar (whatever the pupil's own marks)
--   unauthorised_sessions_in_term  unauthorised sessions in the term to date
--   absence_rate                   sessions missed / possible in the term or the year to
--                                  date, once min_possible_sessions have been possible
--   suspensions                    suspensions starting in the window of school weeks
-- A rule fires in a week when its value reaches the threshold (value >= threshold).
-- first_fired_on and last_fired_on are the last school day of the first and last week it
-- fired; window_start and window_end bound the first firing window (the window is cut at
-- the start of the academic year), and window_weeks is the school weeks it held for a
-- rolling rule: fewer than window_school_weeks early in the year, and the evidence says
-- so rather than quoting the rule's full window beside dates three weeks apart. latest_value is the value in the pupil's latest week
-- of that year; is_active means the rule fired in that week and that week is the school's
-- current one (the week of its as_of_date: its latest attendance session).
-- Where a pupil has no session marks in a year, the rules are asked of the summaries the
-- school sent instead (marts.attendance_summary_period), at the end of each summary
-- period, as far as a summary can answer them (evidence_source = 'school_summary'):
--   absence_rate over the year to date   always;
--   absence_rate over the term, and      when the period lies inside one term of the
--   unauthorised sessions in the term    school's calendar (summed over that term's periods);
--   unauthorised_sessions in a rolling   when the period spans no more school weeks than
--   window                               the window, so every session counted is in it;
--   suspensions                          not from summaries (they are evaluated on the
--                                        weeks of the register).
-- There weeks_fired counts the summaries whose figures reached the threshold, and
-- is_active means the pupil's latest summary of the school's current year did.
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

-- The pupil's last week of the year is found by grouping and joined back, not by a window
-- over the weeks: a window partitioned by three strings cost a fifth of this model's time.
last_weeks as (
    select pupil_key, school_urn, academic_year, max(school_week) as last_week
    from marts.attendance_pupil_week
    group by pupil_key, school_urn, academic_year
),

weeks as (
    select
        w.pupil_key,
        w.school_urn,
        w.academic_year,
        w.term,
        w.school_week,
        w.week_start,
        w.week_end,
        w.possible,
        w.unauthorised,
        w.authorised + w.unauthorised as absent,
        w.school_week = l.last_week as is_last_week
    from marts.attendance_pupil_week as w
    inner join last_weeks as l
        on l.pupil_key = w.pupil_key and l.school_urn = w.school_urn
        and l.academic_year = w.academic_year
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

-- Rolling windows whose length is data: each week's unauthorised sessions (or
-- suspensions) are spread forward onto the school weeks whose window holds them, then
-- summed, so the big pupil-week table is only ever joined on equality.
suspension_weeks as (
    select
        e.pupil_key,
        e.school_urn,
        c.academic_year,
        c.school_week,
        count(*) as events
    from core.fct_exclusion as e
    inner join core.dim_school_calendar as c
        on c.school_urn = e.school_urn and c.date_day = e.start_date
    where e.category = 'suspension' and c.school_week is not null
    group by e.pupil_key, e.school_urn, c.academic_year, c.school_week
),

events as (
    select
        pupil_key,
        school_urn,
        academic_year,
        school_week,
        'unauthorised_sessions' as kind,
        unauthorised as events
    from weeks
    where unauthorised > 0
    union all
    select
        pupil_key,
        school_urn,
        academic_year,
        school_week,
        'suspensions' as kind,
        events
    from suspension_weeks
),

rolling_sums as (
    select
        e.pupil_key,
        e.school_urn,
        e.academic_year,
        r.rule_id,
        sw.school_week,
        sum(e.events) as events
    from events as e
    inner join rules as r on r.kind = e.kind
    inner join school_weeks as sw
        on sw.school_urn = e.school_urn and sw.academic_year = e.academic_year
        and sw.school_week >= e.school_week
        and sw.school_week < e.school_week + r.window_school_weeks
    group by e.pupil_key, e.school_urn, e.academic_year, r.rule_id, sw.school_week
),

rolling_evaluated as (
    select
        w.pupil_key,
        w.school_urn,
        w.academic_year,
        w.school_week,
        w.is_last_week,
        r.rule_id,
        cast(coalesce(s.events, 0) as double) as value,
        cast(null as bigint) as possible_in_period,
        ws.week_start as window_start,
        w.week_end as window_end,
        least(w.school_week, r.window_school_weeks) as window_weeks
    from weeks as w
    inner join rules as r on r.kind in ('unauthorised_sessions', 'suspensions')
    left join rolling_sums as s
        on s.pupil_key = w.pupil_key and s.school_urn = w.school_urn
        and s.academic_year = w.academic_year and s.rule_id = r.rule_id
        and s.school_week = w.school_week
    inner join school_weeks as ws
        on ws.school_urn = w.school_urn and ws.academic_year = w.academic_year
        and ws.school_week = greatest(w.school_week - r.window_school_weeks + 1, 1)
),

to_date_evaluated as (
    select
        u.pupil_key,
        u.school_urn,
        u.academic_year,
        u.school_week,
        u.is_last_week,
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
        u.week_end as window_end,
        cast(null as bigint) as window_weeks
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

-- Only the weeks a rule fired in, and each pupil's last week, say anything in the summary
-- below: the rest (nine in ten) are dropped before it is grouped and joined.
evaluated_kept as (
    select * from evaluated where fired or is_last_week
),

-- The year's summary per pupil, rule and year (only where the rule fired), then the
-- first firing week's row for its evidence: aggregates and equality joins, no sorting.
summary as (
    select
        pupil_key,
        school_urn,
        rule_id,
        academic_year,
        min(case when fired then school_week end) as first_week,
        max(case when fired then school_week end) as last_week,
        sum(case when fired then 1 else 0 end) as weeks_fired,
        max(case when fired then value end) as peak_value,
        max(case when is_last_week then value end) as latest_value,
        max(case when is_last_week and fired then school_week end) as latest_fired_week
    from evaluated_kept
    group by pupil_key, school_urn, rule_id, academic_year
    having sum(case when fired then 1 else 0 end) > 0
),

-- The summaries' arm: each summary period counted for a pupil-year without marks.
summary_periods as (
    select
        p.*,
        max(p.period_order) over (
            partition by p.pupil_key, p.school_urn, p.academic_year
        ) as last_order,
        min(p.period_start) over (
            partition by p.pupil_key, p.school_urn, p.academic_year
        ) as year_first_start,
        sum(p.possible) over (
            partition by p.pupil_key, p.school_urn, p.academic_year, p.term
            order by p.period_order rows between unbounded preceding and current row
        ) as possible_term,
        sum(p.absent) over (
            partition by p.pupil_key, p.school_urn, p.academic_year, p.term
            order by p.period_order rows between unbounded preceding and current row
        ) as absent_term,
        sum(p.unauthorised) over (
            partition by p.pupil_key, p.school_urn, p.academic_year, p.term
            order by p.period_order rows between unbounded preceding and current row
        ) as unauthorised_term,
        min(p.period_start) over (
            partition by p.pupil_key, p.school_urn, p.academic_year, p.term
        ) as term_first_start
    from marts.attendance_summary_period as p
),

summary_evaluated as (
    select
        p.pupil_key,
        p.school_urn,
        p.academic_year,
        p.period_order,
        p.period_order = p.last_order as is_last_period,
        p.period_end,
        r.rule_id,
        case
            when r.kind = 'unauthorised_sessions' then cast(p.unauthorised as double)
            when r.kind = 'unauthorised_sessions_in_term' then cast(p.unauthorised_term as double)
            when r.period = 'term'
                then cast(p.absent_term as double) / cast(p.possible_term as double)
            else cast(p.absent_year_to_date as double) / cast(p.possible_year_to_date as double)
        end as value,
        case
            when r.kind = 'absence_rate' and r.period = 'term' then p.possible_term
            when r.kind = 'absence_rate' then p.possible_year_to_date
        end as possible_in_period,
        case
            when r.kind = 'unauthorised_sessions' then p.period_start
            when r.kind = 'unauthorised_sessions_in_term' or r.period = 'term'
                then p.term_first_start
            else p.year_first_start
        end as window_start,
        p.period_end as window_end,
        case when r.kind = 'unauthorised_sessions' then p.school_weeks end as window_weeks
    from summary_periods as p
    inner join rules as r
        on (r.kind = 'absence_rate' and coalesce(r.period, '') <> 'term')
        or (
            (r.kind = 'unauthorised_sessions_in_term' or (r.kind = 'absence_rate' and r.period = 'term'))
            and p.term is not null
        )
        or (r.kind = 'unauthorised_sessions' and p.school_weeks <= r.window_school_weeks)
    where p.possible_year_to_date > 0
),

summary_fired as (
    select
        e.*,
        e.value >= r.threshold
            and (r.min_possible_sessions is null or e.possible_in_period >= r.min_possible_sessions)
            as fired
    from summary_evaluated as e
    inner join rules as r on r.rule_id = e.rule_id
),

summary_years as (
    select
        pupil_key,
        school_urn,
        rule_id,
        academic_year,
        min(case when fired then period_order end) as first_order,
        max(case when fired then period_order end) as last_order,
        sum(case when fired then 1 else 0 end) as periods_fired,
        max(case when fired then value end) as peak_value,
        max(case when is_last_period then value end) as latest_value,
        max(case when is_last_period and fired then 1 else 0 end) = 1 as latest_fired
    from summary_fired
    group by pupil_key, school_urn, rule_id, academic_year
    having sum(case when fired then 1 else 0 end) > 0
),

-- The school's current week: its last school week up to its as_of_date, in the year
-- holding that date (marts.school_year_as_of, which changes once a week, not daily).
school_now as (
    select school_urn, academic_year, last_week as current_week
    from marts.school_year_as_of
    where is_latest_year
)

select
    s.pupil_key,
    s.school_urn,
    s.rule_id,
    r.label as rule_label,
    r.kind,
    s.academic_year,
    e.window_end as first_fired_on,
    lw.week_end as last_fired_on,
    s.weeks_fired,
    e.value as value_at_first,
    s.peak_value,
    r.threshold,
    r.window_school_weeks,
    r.period,
    r.min_possible_sessions,
    e.window_start,
    e.window_end,
    e.window_weeks,
    coalesce(s.latest_value, 0.0) as latest_value,
    coalesce(s.latest_fired_week = sn.current_week, false) as is_active,
    r.wording,
    'session_marks' as evidence_source
from summary as s
inner join evaluated_kept as e
    on e.pupil_key = s.pupil_key and e.school_urn = s.school_urn and e.rule_id = s.rule_id
    and e.academic_year = s.academic_year and e.school_week = s.first_week
inner join rules as r on r.rule_id = s.rule_id
inner join school_weeks as lw
    on lw.school_urn = s.school_urn and lw.academic_year = s.academic_year
    and lw.school_week = s.last_week
left join school_now as sn on sn.school_urn = s.school_urn and sn.academic_year = s.academic_year
union all
select
    s.pupil_key,
    s.school_urn,
    s.rule_id,
    r.label as rule_label,
    r.kind,
    s.academic_year,
    e.period_end as first_fired_on,
    l.period_end as last_fired_on,
    s.periods_fired as weeks_fired,
    e.value as value_at_first,
    s.peak_value,
    r.threshold,
    r.window_school_weeks,
    r.period,
    r.min_possible_sessions,
    e.window_start,
    e.window_end,
    e.window_weeks,
    coalesce(s.latest_value, 0.0) as latest_value,
    s.latest_fired and coalesce(y.is_latest_year, false) as is_active,
    r.wording,
    'school_summary' as evidence_source
from summary_years as s
inner join summary_fired as e
    on e.pupil_key = s.pupil_key and e.school_urn = s.school_urn and e.rule_id = s.rule_id
    and e.academic_year = s.academic_year and e.period_order = s.first_order
inner join summary_fired as l
    on l.pupil_key = s.pupil_key and l.school_urn = s.school_urn and l.rule_id = s.rule_id
    and l.academic_year = s.academic_year and l.period_order = s.last_order
inner join rules as r on r.rule_id = s.rule_id
left join marts.school_year_as_of as y
    on y.school_urn = s.school_urn and y.academic_year = s.academic_year
