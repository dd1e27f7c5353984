-- grain: one row per school (and the trust, school_urn 'TRUST') per SEN provision (K or E) per primary need
-- unique_key: [school_urn, sen_provision, primary_need]
-- not_null: [school_urn, scope, as_of_date, sen_provision, primary_need, pupils, register_pupils, provision_pupils, share_of_school_register, share_of_provision]
-- accepted_values:
--   sen_provision: [E, K]
--   scope: [school, trust]
-- checks:
--   - name: shares_add_up_to_the_whole_register
--     sql: >-
--       select school_urn from marts.register_need_summary
--       group by school_urn having abs(sum(share_of_school_register) - 100) > 1e-6
-- Who is on the register (K or E) on each school's as_of_date, by primary need. A pupil
-- with no primary need recorded counts under 'unknown', so the shares add up.
-- Shares are percentages (0 to 100): share_of_school_register of the school's K+E pupils,
-- share_of_provision of its pupils with the same provision (the figure the national share
-- describes). Exact counts: disclosure control is applied when figures are shown.
-- National figure: the latest January school census share for that provision and need
-- (ehcp_primary_need_share, sen_support_primary_need_share); for EHC plans without one,
-- the SEN2 share of all EHC plans for ages 0 to 25 (ehcp_0_25_primary_need_share), a wider
-- population, named in national_measure with its year, period and source.
with register as (
    select
        school_urn,
        as_of_date,
        sen_provision,
        coalesce(primary_need, 'unknown') as primary_need
    from marts.register_pupil
    where on_register
),

per_school as (
    select
        school_urn,
        'school' as scope,
        max(as_of_date) as as_of_date,
        sen_provision,
        primary_need,
        count(*) as pupils
    from register
    group by school_urn, sen_provision, primary_need
),

per_trust as (
    select
        'TRUST' as school_urn,
        'trust' as scope,
        max(as_of_date) as as_of_date,
        sen_provision,
        primary_need,
        count(*) as pupils
    from register
    group by sen_provision, primary_need
),

counts as (
    select * from per_school
    union all
    select * from per_trust
),

totals as (
    select
        c.*,
        sum(c.pupils) over (partition by c.school_urn) as register_pupils,
        sum(c.pupils) over (partition by c.school_urn, c.sen_provision) as provision_pupils
    from counts as c
),

national as (
    select
        measure,
        "group" as need,
        value,
        academic_year,
        period,
        source,
        row_number() over (
            partition by measure, "group" order by academic_year desc, effective_from desc, period
        ) as n
    from reference.national_figure
    where measure in (
        'ehcp_primary_need_share', 'sen_support_primary_need_share', 'ehcp_0_25_primary_need_share'
    )
),

needs as (
    select code, name, broad_area
    from reference.sen_need
    where effective_to is null
)

select
    t.school_urn,
    t.scope,
    t.as_of_date,
    t.sen_provision,
    t.primary_need,
    coalesce(nd.name, case when t.primary_need = 'unknown' then 'Not recorded' end)
        as primary_need_name,
    nd.broad_area as primary_broad_area,
    t.pupils,
    t.register_pupils,
    t.provision_pupils,
    100.0 * cast(t.pupils as double) / cast(t.register_pupils as double)
        as share_of_school_register,
    100.0 * cast(t.pupils as double) / cast(t.provision_pupils as double) as share_of_provision,
    coalesce(nc.measure, n2.measure) as national_measure,
    coalesce(nc.value, n2.value) as national_share,
    coalesce(nc.academic_year, n2.academic_year) as national_academic_year,
    coalesce(nc.period, n2.period) as national_period,
    coalesce(nc.source, n2.source) as national_source
from totals as t
left join needs as nd on nd.code = t.primary_need
left join national as nc
    on nc.need = t.primary_need and nc.n = 1
    and nc.measure = case
        when t.sen_provision = 'E' then 'ehcp_primary_need_share'
        else 'sen_support_primary_need_share'
    end
left join national as n2
    on n2.need = t.primary_need and n2.n = 1 and t.sen_provision = 'E'
    and n2.measure = 'ehcp_0_25_primary_need_share'
