-- grain: one row per pupil who is on roll nowhere and left their last school before
-- $cutoff: everything held about them is past its retention period, so the whole record
-- goes (identity, history, groups, notes, reviews, files).
select pupil_key
from core.fct_enrolment
group by pupil_key
having bool_and(leaving_date is not null) and max(leaving_date) < $cutoff
order by pupil_key
