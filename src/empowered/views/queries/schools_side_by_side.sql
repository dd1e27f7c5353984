-- grain: one row per school in scope: its register today, attendance this academic year by
-- SEN status, provision started this academic year and its cost, plan reviews overdue
with schools as (
    select s.school_urn, s.school_name, a.as_of_academic_year as academic_year, a.as_of_date
    from core.dim_school as s
    left join marts.school_as_of as a on a.school_urn = s.school_urn
    where ($scope_schools is null or list_contains($scope_schools, s.school_urn))
),
register as (
    select
        r.school_urn,
        count(*) as on_roll,
        count(*) filter (where r.sen_provision = 'N') as no_sen,
        count(*) filter (where r.sen_provision = 'K') as sen_support,
        count(*) filter (where r.sen_provision = 'E') as ehc_plan,
        -- as the home page's overdue reviews (attention_reviews.sql): a current plan, a
        -- review date, and that date passed on the school's as-of date
        count(*) filter (
            where r.has_current_plan and r.plan_next_review_due is not null
                and r.review_overdue and r.current_plan_type is distinct from 'ehc_plan'
        ) as support_reviews_overdue,
        count(*) filter (
            where r.has_current_plan and r.plan_next_review_due is not null
                and r.review_overdue and r.current_plan_type = 'ehc_plan'
        ) as ehc_reviews_overdue
    from marts.register_pupil as r
    group by r.school_urn
),
attendance as (
    -- this academic year's sessions, split by the pupil's SEN status today
    select
        y.school_urn,
        count(*) filter (where r.on_register) as sen_pupils,
        sum(y.present) filter (where r.on_register) as sen_present,
        sum(y.possible) filter (where r.on_register) as sen_possible,
        count(*) filter (where not r.on_register) as other_pupils,
        sum(y.present) filter (where not r.on_register) as other_present,
        sum(y.possible) filter (where not r.on_register) as other_possible
    from marts.attendance_pupil_year_all as y
    join marts.register_pupil as r
        on r.pupil_key = y.pupil_key and r.school_urn = y.school_urn
    join schools as s on s.school_urn = y.school_urn and s.academic_year = y.academic_year
    where y.possible > 0
    group by y.school_urn
),
provision as (
    select
        e.school_urn,
        count(distinct e.pupil_key) as provision_pupils,
        sum(e.cost_per_pupil) as provision_cost
    from marts.provision_enrolment as e
    where e.in_as_of_year
    group by e.school_urn
)
select
    s.school_urn, s.school_name, s.academic_year, s.as_of_date,
    coalesce(g.on_roll, 0) as on_roll, coalesce(g.no_sen, 0) as no_sen,
    coalesce(g.sen_support, 0) as sen_support, coalesce(g.ehc_plan, 0) as ehc_plan,
    coalesce(g.support_reviews_overdue, 0) as support_reviews_overdue,
    coalesce(g.ehc_reviews_overdue, 0) as ehc_reviews_overdue,
    coalesce(a.sen_pupils, 0) as sen_pupils, a.sen_present, a.sen_possible,
    coalesce(a.other_pupils, 0) as other_pupils, a.other_present, a.other_possible,
    coalesce(p.provision_pupils, 0) as provision_pupils, p.provision_cost
from schools as s
left join register as g on g.school_urn = s.school_urn
left join attendance as a on a.school_urn = s.school_urn
left join provision as p on p.school_urn = s.school_urn
order by s.school_name, s.school_urn
