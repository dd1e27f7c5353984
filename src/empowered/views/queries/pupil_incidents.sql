-- grain: one row per ABC behaviour incident of one pupil
select
    i.incident_key, i.school_urn, i.occurred_on, i.occurred_minute, i.time_slot,
    i.time_slot_label, i.period_name, i.weekday_name, i.academic_year, i.activity,
    i.activity_label, i.setting, i.setting_label, i.antecedent, i.behaviour, i.consequence,
    i.intensity, i.duration_minutes, i.batch_id
from marts.behaviour_incident as i
where i.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
order by i.occurred_on, i.occurred_minute, i.incident_key
