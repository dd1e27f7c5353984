-- grain: one row per school per intervention run there this academic year whose target need no pupil on the school's SEN register has as primary need
-- unique_key: [school_urn, intervention_code]
-- not_null: [school_urn, intervention_code, target_need, enrolments, pupils]
-- relationships:
--   school_urn: core.dim_school.school_urn
--   intervention_code: core.dim_intervention.intervention_code
-- "This academic year" and "the register" are as in marts.provision_need_coverage, as of
-- the school's as_of_date (marts.school_as_of). An intervention with no target_need
-- cannot be judged here and is left out. A target need absent from the register is a
-- question, not a fault: the pupils may be awaiting assessment, hold it as a secondary
-- need, or share its broad area, so those counts are given beside it.
with register as (
    select
        h.school_urn,
        h.pupil_key,
        h.primary_need,
        h.secondary_need,
        h.primary_broad_area,
        b.name as primary_broad_area_name
    from core.dim_sen_status_history as h
    inner join core.fct_enrolment as r
        on r.pupil_key = h.pupil_key and r.school_urn = h.school_urn
    left join reference.broad_area as b on b.code = h.primary_broad_area
    where h.is_current and r.is_on_roll and h.sen_provision in ('K', 'E')
),

run_this_year as (
    select
        school_urn,
        intervention_code,
        max(intervention_name) as intervention_name,
        max(area_of_need) as area_of_need,
        max(target_need) as target_need,
        max(as_of_date) as as_of_date,
        count(*) as enrolments,
        count(distinct pupil_key) as pupils,
        count(distinct case when is_current then pupil_key end) as current_pupils,
        sum(case when need_matches then 1 else 0 end) as enrolments_matching_need
    from marts.provision_enrolment
    where in_as_of_year and target_need is not null
    group by school_urn, intervention_code
),

held as (
    select school_urn, primary_need, count(*) as pupils
    from register
    group by school_urn, primary_need
),

held_as_secondary as (
    select school_urn, secondary_need, count(*) as pupils
    from register
    where secondary_need is not null
    group by school_urn, secondary_need
),

in_area as (
    select
        p.school_urn,
        p.intervention_code,
        count(*) as pupils
    from run_this_year as p
    inner join register as g
        on g.school_urn = p.school_urn
        and (
            lower(trim(p.area_of_need)) = lower(g.primary_broad_area)
            or lower(trim(p.area_of_need)) = lower(g.primary_broad_area_name)
        )
    group by p.school_urn, p.intervention_code
)

select
    p.school_urn,
    p.intervention_code,
    p.intervention_name,
    p.target_need,
    n.name as target_need_name,
    p.area_of_need,
    p.as_of_date,
    p.enrolments,
    p.pupils,
    p.current_pupils,
    p.enrolments_matching_need,
    coalesce(s.pupils, 0) as sen_pupils_with_target_as_secondary_need,
    coalesce(a.pupils, 0) as sen_pupils_in_area_of_need
from run_this_year as p
left join held as h on h.school_urn = p.school_urn and h.primary_need = p.target_need
left join held_as_secondary as s
    on s.school_urn = p.school_urn and s.secondary_need = p.target_need
left join in_area as a
    on a.school_urn = p.school_urn and a.intervention_code = p.intervention_code
left join reference.sen_need as n on n.code = p.target_need and n.effective_to is null
where h.pupils is null
