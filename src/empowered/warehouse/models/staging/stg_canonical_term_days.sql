-- grain: one row per school per day inside one of its calendar's academic years
-- unique_key: [school_urn, date_day]
-- not_null: [school_urn, date_day]
-- Each academic year of the school calendar runs from its first term's start to its last
-- term's end (staging.stg_canonical_school_terms: the school's own terms, else the
-- standard ones). An attendance mark on any other day (a summer holiday, a year no
-- calendar covers) has no school year, term or week, so staging quarantines it
-- (stg_canonical_attendance, rule 20) instead of letting it reach the marts without one.
-- A mark in a half-term break stays: it is inside its year, on a day that is not term time.
-- One row per day, not per year, so the attendance check is an equality join: two years
-- whose spans overlap (a school's own year labelled oddly) still give a day once.
with years as (
    select school_urn, academic_year, min(start_date) as first_day, max(end_date) as last_day
    from staging.stg_canonical_school_terms
    group by school_urn, academic_year
)

select distinct y.school_urn, d.date_day
from years as y
inner join reference.calendar_date as d on d.date_day between y.first_day and y.last_day
