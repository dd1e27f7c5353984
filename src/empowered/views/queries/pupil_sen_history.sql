-- grain: one row per period of unchanged SEN status of one pupil
select s.school_urn, s.valid_from, s.valid_to, s.sen_provision, s.primary_need, s.primary_need_name
from core.dim_sen_status_history as s
where s.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, s.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, s.pupil_key))
order by s.valid_from, s.school_urn
