-- grain: one row per intervention group at the given schools ($schools null: every school), with its members and registers so far
with members as (
    select
        group_id,
        count(*) filter (where end_date is null or end_date >= $today) as members,
        count(*) as enrolments
    from core.fct_provision_enrolment
    where group_id is not null
    group by group_id
),

registers as (
    select
        group_id,
        count(distinct session_date) as registers,
        count(distinct case when delivered then session_date end) as delivered,
        max(session_date) as last_session
    from core.fct_provision_session
    where group_id is not null
    group by group_id
)

select
    g.group_id,
    g.school_urn,
    g.group_name,
    g.intervention_code,
    i.intervention_name,
    i.minutes_per_session,
    g.staff_ids,
    g.day_of_week,
    g.start_minute,
    g.end_minute,
    g.start_date,
    g.end_date,
    coalesce(m.members, 0) as members,
    coalesce(r.registers, 0) as registers,
    coalesce(r.delivered, 0) as delivered,
    r.last_session
from core.dim_provision_group as g
inner join core.dim_intervention as i on i.intervention_code = g.intervention_code
left join members as m on m.group_id = g.group_id
left join registers as r on r.group_id = g.group_id
where ($schools is null or list_contains($schools, g.school_urn))
    and ($group_id is null or g.group_id = $group_id)
order by g.school_urn, lower(g.group_name), g.group_id
