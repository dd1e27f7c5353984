-- grain: one row per school per half term of its calendar: its own, else the standard one
-- unique_key: [school_urn, start_date]
-- not_null: [school_urn, academic_year, term, half_term, start_date, end_date, is_standard]
-- The calendar comes with the product: a school that never sent terms.csv gets England's
-- standard term dates (reference.standard_term_date, a typical local authority's pattern)
-- so its attendance is still read and lands in the right academic year. Its own terms
-- replace the standard ones for each academic year they cover, and only that year. A
-- standard half term that would overlap one of the school's own (a year labelled
-- differently) is left out too, so no school day is ever in two terms.
with own as (
    select school_urn, academic_year, term, half_term, start_date, end_date
    from staging.stg_canonical_terms
    where _is_current
),

schools as (
    select school_urn from staging.stg_canonical_schools where _is_current
    union
    select school_urn from own
),

standard as (
    select s.school_urn, r.academic_year, r.term, r.half_term, r.start_date, r.end_date
    from schools as s
    cross join reference.standard_term_date as r
    where not exists (
        select 1
        from own as o
        where o.school_urn = s.school_urn
            and (o.academic_year = r.academic_year
                or (o.start_date <= r.end_date and r.start_date <= o.end_date))
    )
)

select school_urn, academic_year, term, half_term, start_date, end_date, false as is_standard
from own
union all
select school_urn, academic_year, term, half_term, start_date, end_date, true as is_standard
from standard
