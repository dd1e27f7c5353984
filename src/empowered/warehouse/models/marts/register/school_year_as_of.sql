-- grain: one row per school per academic year of its calendar (and the year holding its as_of_date): how far into the year "now" is
-- unique_key: [school_urn, academic_year]
-- not_null: [school_urn, academic_year, is_latest_year]
-- relationships:
--   school_urn: core.dim_school.school_urn
-- checks:
--   - name: one_latest_year_per_school
--     sql: >-
--       select school_urn from marts.school_year_as_of
--       where is_latest_year group by school_urn having count(*) > 1
-- The school's as_of_date (marts.school_as_of) moves on with every school day, but the
-- yearly marts only need how far into each year it is: the last school week up to it
-- (last_week; the final week of a finished year) and which year holds it. Those change
-- once a week, so a day's register leaves these rows as they were and the pupil-year
-- mart and the triggers rebuild only the pupils whose sessions changed, not every pupil
-- whenever the date moves (marts.school_as_of itself changes every day).
-- year_start and year_end are the year's first and last school day. The year holding the
-- as_of_date is a row even when the school's calendar has no school days in it (then
-- year_start, year_end and last_week are null).
with as_of as (
    select school_urn, as_of_date
    from marts.school_as_of
),

school_years as (
    select
        c.school_urn,
        c.academic_year,
        min(c.date_day) as year_start,
        max(c.date_day) as year_end,
        max(case when c.date_day <= x.as_of_date then c.school_week end) as last_week
    from core.dim_school_calendar as c
    inner join as_of as x on x.school_urn = c.school_urn
    where c.is_school_day
    group by c.school_urn, c.academic_year
),

latest as (
    select x.school_urn, d.academic_year
    from as_of as x
    inner join core.dim_date as d on d.date_day = x.as_of_date
)

select
    coalesce(y.school_urn, l.school_urn) as school_urn,
    coalesce(y.academic_year, l.academic_year) as academic_year,
    y.year_start,
    y.year_end,
    y.last_week,
    l.academic_year is not null as is_latest_year
from school_years as y
full join latest as l on l.school_urn = y.school_urn and l.academic_year = y.academic_year
