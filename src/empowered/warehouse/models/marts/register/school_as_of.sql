-- grain: one row per school: the date every mart treats as "now" for that school
-- unique_key: [school_urn]
-- not_null: [school_urn]
-- relationships:
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   as_of_source: [attendance, attendance_summary, observations]
-- "Current" cannot mean today's date: synthetic data ends with the last completed
-- academic year and real data with the last import, so today would make everything look
-- finished. Each school's as_of_date is its latest attendance session_date (the register
-- is the most complete daily record). A school that sends per-pupil attendance summaries
-- instead of marks is as of the latest date its summaries and its pupils' details speak
-- for: the end of its latest summary (a transfer file's record of an earlier school does
-- not count) or, if later, the date its latest characteristics took effect (the student
-- list's export date), so the SEN register it sent a few days after the summary is the
-- one in force. Failing both, the latest observation date; a school with none of them
-- has no as_of_date and nothing is current there. The academic year
-- holding that date scopes "this year's provision" in the other provision marts.
-- The sessions are read from staging's current rows, which is all core's sessions view
-- shows of them (core.fct_attendance_session, as marts.attendance_pupil_day reads them):
-- through the view every session is looked up in the calendar first, and this model,
-- rebuilt with every school day, took four times as long.
with last_attendance as (
    select school_urn, max(session_date) as last_session_date
    from staging.stg_canonical_attendance
    where _is_current
    group by school_urn
),

last_summary as (
    select school_urn, max(period_end) as last_period_end
    from core.fct_attendance_summary
    where not from_other_school
    group by school_urn
),

last_details as (
    select school_urn, max(valid_from) as last_valid_from
    from core.dim_characteristics_history
    group by school_urn
),

last_observation as (
    select school_urn, max(observed_on) as last_observed_on
    from core.fct_observation
    group by school_urn
),

as_of as (
    select
        s.school_urn,
        coalesce(
            a.last_session_date,
            greatest(m.last_period_end, coalesce(c.last_valid_from, m.last_period_end)),
            o.last_observed_on
        ) as as_of_date,
        case
            when a.last_session_date is not null then 'attendance'
            when m.last_period_end is not null then 'attendance_summary'
            when o.last_observed_on is not null then 'observations'
        end as as_of_source
    from core.dim_school as s
    left join last_attendance as a on a.school_urn = s.school_urn
    left join last_summary as m on m.school_urn = s.school_urn
    left join last_details as c on c.school_urn = s.school_urn
    left join last_observation as o on o.school_urn = s.school_urn
),

academic_years as (
    select academic_year, min(date_day) as year_start, max(date_day) as year_end
    from core.dim_date
    group by academic_year
)

select
    a.school_urn,
    a.as_of_date,
    a.as_of_source,
    d.academic_year as as_of_academic_year,
    y.year_start as as_of_year_start
from as_of as a
left join core.dim_date as d on d.date_day = a.as_of_date
left join academic_years as y on y.academic_year = d.academic_year
