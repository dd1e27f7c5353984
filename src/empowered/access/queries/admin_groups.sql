-- grain: one row per teaching group (class, set, intervention or TA group) at the school
-- $school, with how many pupils are in it (counts only: no pupil is named here).
select group_code, count(distinct pupil_key) as members
from core.bridge_group_member
where school_urn = $school
group by group_code
order by group_code
