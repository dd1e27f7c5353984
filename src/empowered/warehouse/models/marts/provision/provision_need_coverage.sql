-- grain: one row per school per primary need held by a pupil on the SEN register as of the school's as_of_date
-- unique_key: [school_urn, primary_need]
-- not_null: [school_urn, primary_need, sen_pupils, pupils_with_provision, pupils_with_matching_provision, interventions_offered_for_need, training_records_for_need, staff_trained_for_need]
-- relationships:
--   school_urn: core.dim_school.school_urn
-- checks:
--   - name: provided_pupils_are_register_pupils
--     sql: >-
--       select * from marts.provision_need_coverage
--       where pupils_with_matching_provision > pupils_with_provision
--         or pupils_with_provision > sen_pupils
--         or pupils_with_current_provision > pupils_with_provision
-- On the SEN register = on roll (core.fct_enrolment.is_on_roll) with a current
-- dim_sen_status_history row at the school whose sen_provision is K (SEN support) or E
-- (EHC plan); the need is that row's primary need ('NOT_RECORDED' when blank, so the
-- gap is visible rather than dropped). as_of_date: see marts.school_as_of.
-- Provision counts enrolments at this school in the academic year holding as_of_date (an
-- enrolment overlapping it, up to as_of_date): real data stops mid-year and synthetic
-- data after the last full year, so "running today" alone would often be nothing.
-- pupils_with_current_provision uses running-on-as_of_date instead.
-- Matching provision follows marts.provision_enrolment.need_matches, but against the
-- pupil's need now: the intervention's target_need is this need, or its area_of_need is
-- this need's broad area. interventions_offered_for_need counts only exact target_need
-- matches, run at the school this year. Training counts courses completed in the three
-- years up to as_of_date whose area_of_need is this need code.
with register as (
    select
        h.school_urn,
        h.pupil_key,
        coalesce(h.primary_need, 'NOT_RECORDED') as primary_need,
        h.primary_need_name,
        h.primary_broad_area,
        b.name as primary_broad_area_name
    from core.dim_sen_status_history as h
    inner join core.fct_enrolment as r
        on r.pupil_key = h.pupil_key and r.school_urn = h.school_urn
    left join reference.broad_area as b on b.code = h.primary_broad_area
    where h.is_current and r.is_on_roll and h.sen_provision in ('K', 'E')
),

this_year as (
    select school_urn, pupil_key, intervention_code, area_of_need, target_need, is_current
    from marts.provision_enrolment
    where in_as_of_year
),

pupil_provision as (
    select
        g.school_urn,
        g.primary_need,
        g.pupil_key,
        max(g.primary_need_name) as primary_need_name,
        max(g.primary_broad_area) as primary_broad_area,
        max(case when p.pupil_key is not null then 1 else 0 end) as has_provision,
        max(case when p.is_current then 1 else 0 end) as has_current_provision,
        max(
            case
                when p.target_need = g.primary_need
                    or lower(trim(p.area_of_need)) = lower(g.primary_broad_area)
                    or lower(trim(p.area_of_need)) = lower(g.primary_broad_area_name)
                    then 1
                else 0
            end
        ) as has_matching_provision,
        max(case when p.target_need = g.primary_need then 1 else 0 end)
            as has_target_need_provision
    from register as g
    left join this_year as p on p.school_urn = g.school_urn and p.pupil_key = g.pupil_key
    group by g.school_urn, g.primary_need, g.pupil_key
),

needs as (
    select
        g.school_urn,
        g.primary_need,
        max(g.primary_need_name) as primary_need_name,
        max(g.primary_broad_area) as broad_area,
        count(*) as sen_pupils,
        sum(g.has_provision) as pupils_with_provision,
        sum(g.has_current_provision) as pupils_with_current_provision,
        sum(g.has_matching_provision) as pupils_with_matching_provision,
        sum(g.has_target_need_provision) as pupils_with_target_need_provision
    from pupil_provision as g
    group by g.school_urn, g.primary_need
),

offered as (
    select school_urn, target_need, count(distinct intervention_code) as interventions
    from this_year
    where target_need is not null
    group by school_urn, target_need
),

training as (
    select
        t.school_urn,
        t.area_of_need,
        count(*) as records,
        count(distinct t.staff_id) as staff
    from core.fct_staff_training as t
    inner join marts.school_as_of as a on a.school_urn = t.school_urn
    where t.completed_on <= a.as_of_date
        and t.completed_on > cast(a.as_of_date - interval 3 year as date)
    group by t.school_urn, t.area_of_need
)

select
    n.school_urn,
    n.primary_need,
    n.primary_need_name,
    n.broad_area,
    a.as_of_date,
    a.as_of_academic_year,
    n.sen_pupils,
    n.pupils_with_provision,
    n.pupils_with_current_provision,
    n.pupils_with_matching_provision,
    n.pupils_with_target_need_provision,
    coalesce(o.interventions, 0) as interventions_offered_for_need,
    coalesce(t.records, 0) as training_records_for_need,
    coalesce(t.staff, 0) as staff_trained_for_need
from needs as n
left join marts.school_as_of as a on a.school_urn = n.school_urn
left join offered as o on o.school_urn = n.school_urn and o.target_need = n.primary_need
left join training as t on t.school_urn = n.school_urn and t.area_of_need = n.primary_need
