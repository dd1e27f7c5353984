-- grain: one row per school per term per primary need: pupils on the SEN register on the term's first school day
-- unique_key: [school_urn, academic_year, term, primary_need]
-- not_null: [school_urn, academic_year, term, term_start, primary_need, pupils]
-- relationships:
--   school_urn: core.dim_school.school_urn
-- "Growing term on term" compares the register at the start of each term, the moment a
-- SENCo reviews it, rather than anyone who passed through it during the term. Pupils must
-- also be on roll that day. Only terms begun by the school's as_of_date (its "now",
-- marts.school_as_of) count: the calendar runs on to the end of England's standard term
-- dates, and a term not yet begun has no register to review (its open statuses would
-- repeat the last one and hide any growth).
with term_starts as (
    select c.school_urn, c.academic_year, c.term, min(c.date_day) as term_start
    from core.dim_school_calendar as c
    inner join marts.school_as_of as x on x.school_urn = c.school_urn
    where c.is_school_day and c.term is not null and c.date_day <= x.as_of_date
    group by c.school_urn, c.academic_year, c.term
)

select
    t.school_urn,
    t.academic_year,
    t.term,
    t.term_start,
    coalesce(s.primary_need, 'unknown') as primary_need,
    count(distinct s.pupil_key) as pupils
from term_starts as t
inner join core.dim_sen_status_history as s
    on s.school_urn = t.school_urn
    and s.valid_from <= t.term_start
    and (s.valid_to is null or s.valid_to > t.term_start)
inner join core.fct_enrolment as e
    on e.pupil_key = s.pupil_key
    and e.school_urn = s.school_urn
    and (e.entry_date is null or e.entry_date <= t.term_start)
    and (e.leaving_date is null or e.leaving_date > t.term_start)
where s.sen_provision in ('K', 'E')
group by t.school_urn, t.academic_year, t.term, t.term_start, coalesce(s.primary_need, 'unknown')
