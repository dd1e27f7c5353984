-- grain: one row for one school: whether it is a special school (its national
-- comparisons are with special schools, not all schools)
select coalesce(is_special_school, false) as is_special_school
from core.dim_school
where school_urn = $school_urn
