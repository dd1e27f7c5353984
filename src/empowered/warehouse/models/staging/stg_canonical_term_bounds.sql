-- grain: one row per school per stretch of days its calendar's academic years span
-- unique_key: [school_urn, first_day]
-- not_null: [school_urn, first_day, last_day]
-- Each academic year of the school calendar spans its first term's start to its last
-- term's end (staging.stg_canonical_school_terms: the school's own terms, else the
-- standard ones). An attendance mark outside every span (a summer holiday, a year no
-- calendar covers) has no school year, term or week, so staging quarantines it
-- (stg_canonical_attendance, rule 20) instead of letting it reach the marts without one.
-- A mark in a half-term break stays: it is inside its year, on a day that is not term time.
-- Years whose spans overlap (a school's own year labelled oddly) are merged into one
-- stretch, so a mark's date matches at most one row.
with years as (
    select school_urn, academic_year, min(start_date) as first_day, max(end_date) as last_day
    from staging.stg_canonical_school_terms
    group by school_urn, academic_year
),

ordered as (
    select
        school_urn,
        first_day,
        last_day,
        max(last_day) over (
            partition by school_urn order by first_day, last_day
            rows between unbounded preceding and 1 preceding
        ) as reached
    from years
),

stretches as (
    select
        school_urn,
        first_day,
        last_day,
        sum(case when reached is null or first_day > reached then 1 else 0 end) over (
            partition by school_urn order by first_day, last_day rows unbounded preceding
        ) as stretch
    from ordered
)

select school_urn, min(first_day) as first_day, max(last_day) as last_day
from stretches
group by school_urn, stretch
