-- grain: one row per pupil per school per summary period counted for an academic year in which the pupil has no session marks at that school
-- unique_key: [pupil_key, school_urn, period_start, period_end]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, academic_year, period_start, period_end, period_order, possible, present, authorised, unauthorised, absent, possible_year_to_date, absent_year_to_date, unauthorised_year_to_date]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   term: [autumn, spring, summer]
-- checks:
--   - name: absences_within_possible_sessions
--     sql: >-
--       select * from marts.attendance_summary_period
--       where absent > possible or unauthorised > absent
-- Where a school sends per-pupil attendance summaries instead of session marks, these are
-- the periods the register, the triggers and the early signs read in place of the marks.
-- Marks win: a pupil-year with any possible session in the register (a row of
-- marts.attendance_pupil_year) takes none of its summaries. Summaries another school sent
-- (a transfer file's earlier years) are that school's history, never this school's figures.
-- A school may send the year to date again and again, or one summary a term: a summary
-- counts unless another one of the same pupil and year overlaps it and reaches further
-- (ends later, or ends on the same day and starts earlier), so the latest year-to-date
-- report stands alone and separate terms add up. A summary with no start is taken to run
-- from the start of the academic year of its end.
-- DfE meaning, as the session codes have it (reference.attendance_code): approved
-- educational activity is a possible session attended, not an absence, so present here
-- counts it; absent = authorised + unauthorised. A summary that gives no present figure
-- attended the sessions it does not record as missed.
-- term is set when the period lies inside one term of the school's calendar, and
-- school_weeks counts the school weeks it spans there (both null without a calendar),
-- so term and rolling-window triggers are asked only where the period answers them.
with academic_years as (
    select academic_year, min(date_day) as year_first_day
    from core.dim_date
    group by academic_year
),

dated as (
    select
        s.pupil_key,
        s.school_urn,
        d.academic_year,
        coalesce(s.period_start, y.year_first_day) as period_start,
        s.period_start is not null as start_given,
        s.period_end,
        s.possible,
        coalesce(s.authorised, 0) as authorised,
        coalesce(s.unauthorised, 0) as unauthorised,
        s.late,
        s.present,
        s.approved_activity
    from core.fct_attendance_summary as s
    inner join core.dim_date as d on d.date_day = s.period_end
    inner join academic_years as y on y.academic_year = d.academic_year
    left join marts.attendance_pupil_year as m
        on m.pupil_key = s.pupil_key and m.school_urn = s.school_urn
        and m.academic_year = d.academic_year
    where m.pupil_key is null and s.from_other_school is not true
),

-- A summary with no start and one starting on the first day of the same academic year,
-- ending the same day, are the same period: the one that gives its start is kept.
summaries as (
    select *
    from (
        select
            d.*,
            row_number() over (
                partition by d.pupil_key, d.school_urn, d.period_start, d.period_end
                order by d.start_given desc
            ) as n
        from dated as d
    ) as numbered
    where n = 1
),

superseded as (
    select a.pupil_key, a.school_urn, a.period_start, a.period_end
    from summaries as a
    inner join summaries as b
        on b.pupil_key = a.pupil_key and b.school_urn = a.school_urn
        and b.academic_year = a.academic_year
        and b.period_start <= a.period_end and a.period_start <= b.period_end
        and (
            b.period_end > a.period_end
            or (b.period_end = a.period_end and b.period_start < a.period_start)
        )
    group by a.pupil_key, a.school_urn, a.period_start, a.period_end
),

kept as (
    select
        s.pupil_key,
        s.school_urn,
        s.academic_year,
        s.period_start,
        s.period_end,
        s.possible,
        s.authorised,
        s.unauthorised,
        s.authorised + s.unauthorised as absent,
        coalesce(
            s.present + coalesce(s.approved_activity, 0),
            s.possible - s.authorised - s.unauthorised
        ) as present,
        s.late
    from summaries as s
    left join superseded as x
        on x.pupil_key = s.pupil_key and x.school_urn = s.school_urn
        and x.period_start = s.period_start and x.period_end = s.period_end
    where x.pupil_key is null
),

-- The calendar says which term a period lies in and how many school weeks it spans, when
-- it holds every day of the period.
placed as (
    select
        k.pupil_key,
        k.school_urn,
        k.period_start,
        k.period_end,
        count(*) as calendar_days,
        min(case when c.is_school_day then c.term end) as first_term,
        max(case when c.is_school_day then c.term end) as last_term,
        count(distinct case when c.is_school_day then c.school_week end) as school_weeks
    from kept as k
    inner join core.dim_school_calendar as c
        on c.school_urn = k.school_urn and c.date_day between k.period_start and k.period_end
    group by k.pupil_key, k.school_urn, k.period_start, k.period_end
)

select
    k.pupil_key,
    k.school_urn,
    k.academic_year,
    k.period_start,
    k.period_end,
    row_number() over (
        partition by k.pupil_key, k.school_urn, k.academic_year
        order by k.period_end, k.period_start
    ) as period_order,
    case
        when p.calendar_days = datediff('day', k.period_start, k.period_end) + 1
            and p.first_term = p.last_term
            then p.first_term
    end as term,
    case
        when p.calendar_days = datediff('day', k.period_start, k.period_end) + 1
            and p.school_weeks > 0
            then p.school_weeks
    end as school_weeks,
    k.possible,
    k.present,
    k.authorised,
    k.unauthorised,
    k.absent,
    k.late,
    sum(k.possible) over (
        partition by k.pupil_key, k.school_urn, k.academic_year
        order by k.period_end, k.period_start rows between unbounded preceding and current row
    ) as possible_year_to_date,
    sum(k.absent) over (
        partition by k.pupil_key, k.school_urn, k.academic_year
        order by k.period_end, k.period_start rows between unbounded preceding and current row
    ) as absent_year_to_date,
    sum(k.unauthorised) over (
        partition by k.pupil_key, k.school_urn, k.academic_year
        order by k.period_end, k.period_start rows between unbounded preceding and current row
    ) as unauthorised_year_to_date
from kept as k
left join placed as p
    on p.pupil_key = k.pupil_key and p.school_urn = k.school_urn
    and p.period_start = k.period_start and p.period_end = k.period_end
