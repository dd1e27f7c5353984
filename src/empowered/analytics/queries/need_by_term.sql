-- grain: one row per school x term x primary need: pupils on the register at the term's start
select n.school_urn, n.academic_year, n.term, n.term_start, n.primary_need, n.pupils
from marts.register_need_by_term as n
where ($school_urn is null or n.school_urn = $school_urn)
order by n.term_start, n.school_urn, n.primary_need
