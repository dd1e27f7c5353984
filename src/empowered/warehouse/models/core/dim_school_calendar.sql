-- grain: one row per school per date from its first term's start to its last term's end
-- unique_key: [school_urn, date_day]
-- not_null: [school_urn, date_day, academic_year, is_school_day, is_term_time]
-- relationships:
--   school_urn: core.dim_school.school_urn
--   date_day: core.dim_date.date_day
-- A school day is a weekday in term that is neither a bank holiday nor a closure (INSET,
-- weather...). school_week numbers the weeks of the academic year that have a school day.
-- The terms are the school's own (terms.csv) for the academic years it sent, else
-- England's standard term dates (staging.stg_canonical_school_terms), so a school that
-- sent none still has a calendar and its attendance a school year.
with terms as (
    select school_urn, academic_year, term, half_term, start_date, end_date
    from staging.stg_canonical_school_terms
),

bounds as (
    select school_urn, min(start_date) as first_day, max(end_date) as last_day
    from terms
    group by school_urn
),

closures as (
    select school_urn, closure_date, reason
    from staging.stg_canonical_closures
    where _is_current
),

days as (
    select
        b.school_urn,
        d.date_day,
        d.academic_year,
        d.iso_year,
        d.iso_week,
        d.iso_weekday,
        d.is_weekend,
        d.is_bank_holiday,
        t.term,
        t.half_term,
        c.reason as closure_reason,
        t.start_date is not null as is_term_time,
        coalesce(
            t.start_date is not null and not d.is_weekend and not d.is_bank_holiday
            and c.closure_date is null,
            false
        ) as is_school_day
    from bounds as b
    inner join core.dim_date as d on d.date_day between b.first_day and b.last_day
    left join terms as t
        on t.school_urn = b.school_urn and d.date_day between t.start_date and t.end_date
    left join closures as c on c.school_urn = b.school_urn and c.closure_date = d.date_day
),

school_weeks as (
    select
        school_urn,
        academic_year,
        iso_year,
        iso_week,
        dense_rank() over (
            partition by school_urn, academic_year order by iso_year, iso_week
        ) as school_week
    from days
    where is_school_day
    group by school_urn, academic_year, iso_year, iso_week
)

select
    d.school_urn,
    d.date_day,
    d.academic_year,
    d.term,
    d.half_term,
    w.school_week,
    d.iso_weekday,
    d.is_weekend,
    d.is_bank_holiday,
    d.closure_reason,
    d.is_term_time,
    d.is_school_day
from days as d
left join school_weeks as w
    on w.school_urn = d.school_urn and w.academic_year = d.academic_year
    and w.iso_year = d.iso_year and w.iso_week = d.iso_week and not d.is_weekend
