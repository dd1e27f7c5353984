-- grain: one row per pupil on the SEN register at one school (as of its as-of date), with
--   their running plan if any: the pupils the demo's plans are written for
-- The UPN is read (encrypted) only to land the plan as an MIS export would name the pupil.
select
    r.pupil_key, r.sen_provision, r.primary_broad_area, r.as_of_date, i.upn,
    p.plan_id, p.plan_type, p.start_date
from marts.register_pupil as r
inner join core.pupil_identity as i on i.pupil_key = r.pupil_key and i.school_urn = r.school_urn
left join (
    select
        plan_id, pupil_key, school_urn, plan_type, start_date,
        row_number() over (
            partition by pupil_key, school_urn order by start_date desc, plan_id desc
        ) as n
    from core.fct_plan
    where end_date is null
) as p on p.pupil_key = r.pupil_key and p.school_urn = r.school_urn and p.n = 1
where r.school_urn = $school_urn and r.on_register
order by r.pupil_key
