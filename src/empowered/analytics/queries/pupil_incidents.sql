-- grain: one row per behaviour incident of one pupil
select
    i.incident_key,
    i.occurred_on,
    i.occurred_minute,
    i.time_slot,
    i.time_slot_label,
    i.iso_weekday,
    i.activity,
    i.setting,
    i.antecedent,
    i.behaviour,
    i.consequence,
    i.intensity
from marts.behaviour_incident as i
where i.pupil_key = $pupil_key
order by i.occurred_on, i.occurred_minute, i.incident_key
