-- grain: one row per pupil per school they left before $cutoff (core.fct_enrolment's
-- leaving date); their records at that school are past a "years after leaving" period.
select pupil_key, school_urn
from core.fct_enrolment
where leaving_date is not null and leaving_date < $cutoff
