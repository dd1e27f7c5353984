-- grain: one row per pupil on roll (the register mart's rows) in scope
select
    r.pupil_key,
    r.school_urn,
    r.year_group,
    r.sen_provision,
    r.primary_need,
    r.on_register,
    r.has_current_plan,
    r.attendance_rate,
    r.attendance_change,
    r.attendance_rate_last_6_weeks
from marts.register_pupil as r
where ($school_urn is null or r.school_urn = $school_urn)
order by r.school_urn, r.pupil_key
