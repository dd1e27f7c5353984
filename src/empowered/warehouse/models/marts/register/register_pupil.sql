-- grain: one row per pupil on roll at a school on that school's as_of_date, with or without SEN
-- unique_key: [pupil_key, school_urn]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, as_of_date, academic_year, sen_provision, on_register, has_current_plan, review_overdue, provision_count, suspensions_this_year]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   sen_provision: [E, K, N]
--   current_plan_type: [sen_support_plan, ehc_plan]
-- checks:
--   - name: on_register_means_k_or_e
--     sql: >-
--       select * from marts.register_pupil
--       where on_register <> (sen_provision in ('K', 'E'))
--       or (on_register and on_register_since is null)
--       or (on_register_since > as_of_date)
-- The register is compared with the whole roll (what share of pupils have SEN support or
-- an EHC plan), so every pupil on roll is here, N included.
-- "As of": synthetic data ends with the last completed academic year and real data with
-- the last import, so each school's as_of_date is its latest attendance session (its
-- latest observation when it has no attendance) and everything here is as of that date:
-- on roll then (entered on or before it and not left by it), the SEN status and
-- characteristics in force then, plans and provision running then, attendance and
-- suspensions of the academic year holding it.
-- Attendance is the year's from the session marks, or from the summaries the school sent
-- where the pupil has no marks that year (marts.attendance_pupil_year_all): the low and
-- persistent absence questions are asked either way, and attendance_source says which.
-- on_register_since is the start of the unbroken run of K/E statuses that includes the
-- as-of status (a move from K to E does not break it; a spell of N does).
-- The one definition of "now" per school (marts.school_as_of).
with as_of as (
    select school_urn, as_of_date
    from marts.school_as_of
),

roll as (
    select e.pupil_key, e.school_urn, x.as_of_date, d.academic_year
    from core.fct_enrolment as e
    inner join as_of as x on x.school_urn = e.school_urn
    inner join core.dim_date as d on d.date_day = x.as_of_date
    where (e.entry_date is null or e.entry_date <= x.as_of_date)
        and (e.leaving_date is null or e.leaving_date > x.as_of_date)
),

-- The characteristics in force on the as-of date; a pupil whose only record is dated
-- later is described by their earliest record rather than not at all.
characteristics as (
    select
        c.*,
        row_number() over (
            partition by c.pupil_key, c.school_urn
            order by
                case when c.valid_from <= r.as_of_date then 0 else 1 end,
                case when c.valid_from <= r.as_of_date then c.valid_from end desc nulls last,
                c.valid_from
        ) as n
    from core.dim_characteristics_history as c
    inner join roll as r on r.pupil_key = c.pupil_key and r.school_urn = c.school_urn
),

sen_history as (
    select s.*, r.as_of_date
    from core.dim_sen_status_history as s
    inner join roll as r on r.pupil_key = s.pupil_key and r.school_urn = s.school_urn
    where s.valid_from <= r.as_of_date
),

sen_now as (
    select
        s.*,
        row_number() over (
            partition by s.pupil_key, s.school_urn order by s.valid_from desc
        ) as n
    from sen_history as s
),

-- The last status before the as-of date that was not K or E ends any earlier K/E run.
last_off_register as (
    select pupil_key, school_urn, max(valid_from) as off_from
    from sen_history
    where sen_provision not in ('K', 'E')
    group by pupil_key, school_urn
),

register_since as (
    select s.pupil_key, s.school_urn, min(s.valid_from) as on_register_since
    from sen_history as s
    left join last_off_register as o
        on o.pupil_key = s.pupil_key and o.school_urn = s.school_urn
    where s.sen_provision in ('K', 'E') and (o.off_from is null or s.valid_from > o.off_from)
    group by s.pupil_key, s.school_urn
),

plans as (
    select
        p.pupil_key,
        p.school_urn,
        p.plan_id,
        p.plan_type,
        p.review_due_on,
        p.last_review_date,
        r.as_of_date,
        row_number() over (
            partition by p.pupil_key, p.school_urn
            order by
                case when p.plan_type = 'ehc_plan' then 0 else 1 end,
                p.start_date desc,
                p.plan_id
        ) as n
    from core.fct_plan as p
    inner join roll as r on r.pupil_key = p.pupil_key and r.school_urn = p.school_urn
    where p.start_date <= r.as_of_date and (p.end_date is null or p.end_date >= r.as_of_date)
),

provision_codes as (
    select distinct p.pupil_key, p.school_urn, p.intervention_code
    from core.fct_provision_enrolment as p
    inner join roll as r on r.pupil_key = p.pupil_key and r.school_urn = p.school_urn
    where p.start_date <= r.as_of_date and (p.end_date is null or p.end_date >= r.as_of_date)
),

provision as (
    select p.pupil_key, p.school_urn, count(*) as provision_count
    from core.fct_provision_enrolment as p
    inner join roll as r on r.pupil_key = p.pupil_key and r.school_urn = p.school_urn
    where p.start_date <= r.as_of_date and (p.end_date is null or p.end_date >= r.as_of_date)
    group by p.pupil_key, p.school_urn
),

provision_list as (
    select
        pupil_key,
        school_urn,
        string_agg(intervention_code, ',' order by intervention_code) as provision_codes
    from provision_codes
    group by pupil_key, school_urn
),

suspensions as (
    select e.pupil_key, e.school_urn, count(*) as suspensions
    from core.fct_exclusion as e
    inner join roll as r
        on r.pupil_key = e.pupil_key and r.school_urn = e.school_urn
        and r.academic_year = e.academic_year
    where e.category = 'suspension' and e.start_date <= r.as_of_date
    group by e.pupil_key, e.school_urn
)

select
    r.pupil_key,
    r.school_urn,
    r.as_of_date,
    r.academic_year,
    c.year_group,
    c.key_stage,
    c.reg_group,
    p.sex,
    coalesce(s.sen_provision, 'N') as sen_provision,
    spn.name as sen_provision_name,
    s.primary_need,
    s.primary_need_name,
    s.primary_broad_area,
    s.secondary_need,
    coalesce(s.sen_provision in ('K', 'E'), false) as on_register,
    case when s.sen_provision in ('K', 'E') then g.on_register_since end as on_register_since,
    case
        when s.sen_provision in ('K', 'E')
            then datediff('day', g.on_register_since, r.as_of_date)
    end as days_on_register,
    c.fsm,
    c.pupil_premium,
    p.is_eal,
    c.looked_after,
    c.service_child,
    p.ethnicity_group,
    a.attendance_source,
    a.attendance_source_text,
    a.possible as sessions_possible,
    a.present as sessions_present,
    a.attendance_rate,
    a.persistent_absence,
    a.severe_absence,
    a.attendance_rate_last_6_weeks,
    a.attendance_rate_last_6_weeks - a.attendance_rate_before_last_6_weeks
        as attendance_change,
    pl.plan_id is not null as has_current_plan,
    pl.plan_id as current_plan_id,
    pl.plan_type as current_plan_type,
    -- When the plan's next review falls due, from the latest review actually held
    -- (core.fct_plan.review_due_on), not the imported next_review_due alone.
    pl.review_due_on as plan_next_review_due,
    pl.last_review_date,
    coalesce(pl.review_due_on < r.as_of_date, false) as review_overdue,
    coalesce(pv.provision_count, 0) as provision_count,
    pc.provision_codes,
    coalesce(sp.suspensions, 0) as suspensions_this_year
from roll as r
inner join core.dim_pupil as p on p.pupil_key = r.pupil_key
left join characteristics as c
    on c.pupil_key = r.pupil_key and c.school_urn = r.school_urn and c.n = 1
left join sen_now as s on s.pupil_key = r.pupil_key and s.school_urn = r.school_urn and s.n = 1
left join register_since as g on g.pupil_key = r.pupil_key and g.school_urn = r.school_urn
left join marts.attendance_pupil_year_all as a
    on a.pupil_key = r.pupil_key and a.school_urn = r.school_urn
    and a.academic_year = r.academic_year
left join plans as pl on pl.pupil_key = r.pupil_key and pl.school_urn = r.school_urn and pl.n = 1
left join provision as pv on pv.pupil_key = r.pupil_key and pv.school_urn = r.school_urn
left join provision_list as pc on pc.pupil_key = r.pupil_key and pc.school_urn = r.school_urn
left join suspensions as sp on sp.pupil_key = r.pupil_key and sp.school_urn = r.school_urn
left join reference.sen_provision as spn on spn.code = coalesce(s.sen_provision, 'N')
