-- grain: one row per area of need (the intervention's) over the enrolments of pupils in scope
select
    coalesce(e.area_of_need, 'not recorded') as area_of_need,
    count(distinct e.pupil_key) as pupils,
    count(distinct case when e.is_current then e.pupil_key end) as current_pupils,
    count(*) as enrolments,
    sum(e.cost_per_pupil) as total_cost,
    sum(e.sessions_delivered) as sessions_delivered,
    sum(e.sessions_planned) as sessions_planned
from marts.provision_enrolment as e
where ($scope_schools is null or list_contains($scope_schools, e.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, e.pupil_key))
group by 1
order by 1
