-- grain: one row per intervention in the catalogue a user's schools may use: the trust-wide entries and their schools' own
-- $schools null: every school's entries (the trust admin). Planned cost per pupil is the
-- cost model: staff time (minutes x sessions a week x weeks at the hourly rate) shared
-- across the group, plus resources and training shared across the group.
select
    i.intervention_code,
    i.intervention_name,
    i.area_of_need,
    i.measure,
    i.owner_school_urn,
    s.school_name as owner_school_name,
    i.staff_role,
    i.minutes_per_session,
    i.sessions_per_week,
    i.weeks,
    i.group_size,
    i.hourly_staff_cost,
    i.materials_cost,
    i.training_cost,
    i.planned_hours,
    -- Only when the staff time is known: resources alone would understate it.
    case when i.planned_hours is not null then
        (i.planned_hours * coalesce(i.hourly_staff_cost, 0) + coalesce(i.materials_cost, 0)
            + coalesce(i.training_cost, 0)) / i.group_size
    end as planned_cost_per_pupil
from core.dim_intervention as i
left join core.dim_school as s on s.school_urn = i.owner_school_urn
where i.owner_school_urn is null
    or $schools is null
    or list_contains($schools, i.owner_school_urn)
order by i.owner_school_urn nulls first, lower(i.intervention_name), i.intervention_code
