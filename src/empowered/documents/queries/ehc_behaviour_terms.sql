-- grain: one row per term (academic year and term) with behaviour incidents of one pupil: counts only, never what happened or who else was there
select
    i.academic_year, i.term, min(i.occurred_on) as first_on, count(*) as incidents,
    count(*) filter (where i.intensity >= 4) as serious
from marts.behaviour_incident as i
where i.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
group by i.academic_year, i.term
order by min(i.occurred_on)
