-- grain: one row per school per intervention, plus one 'TRUST' row per intervention over all schools
-- unique_key: [school_urn, intervention_code]
-- not_null: [school_urn, intervention_code, is_trust_total, enrolments, pupils, current_pupils]
-- relationships:
--   intervention_code: core.dim_intervention.intervention_code
-- accepted_values:
--   eef_cost_band: [very low, low, moderate, high, very high]
-- checks:
--   - name: trust_row_sums_the_schools
--     sql: >-
--       select t.intervention_code from marts.provision_intervention_summary as t
--       inner join (
--         select intervention_code, sum(enrolments) as enrolments,
--           sum(with_pre_and_post) as with_pre_and_post, sum(total_cost) as total_cost
--         from marts.provision_intervention_summary where not is_trust_total
--         group by intervention_code
--       ) as s on s.intervention_code = t.intervention_code
--       where t.is_trust_total and (t.enrolments <> s.enrolments
--         or t.with_pre_and_post <> s.with_pre_and_post
--         or abs(t.total_cost - s.total_cost) > 0.0001)
-- Over every enrolment ever recorded (all academic years); "current" is as of each
-- school's as_of_date (see marts.school_as_of) and the TRUST row's as_of_date is the
-- latest of its schools'. Each enrolment is counted once for its school and once for
-- the trust, so the trust's counts and costs are the sums of its schools' while its
-- pupils are distinct pupils (a pupil who moved school counts once).
-- Gains are pooled over enrolments with both a pre and a post score (sd_gain is the
-- sample SD, empty below two). delivery_rate is sessions delivered over sessions planned,
-- summed over the enrolments whose sessions were recorded (see marts.provision_enrolment:
-- no session register is not 0% delivery); sessions_planned and sessions_delivered sum
-- every enrolment. total_cost is for the minutes pupils attended (marts.provision_enrolment).
-- EEF cost bands are per pupil per year, while a cost here is per enrolment (one block of
-- sessions). annual_cost_per_pupil annualises it as total cost / pupil-years: the
-- number of distinct (pupil, academic year of start) pairs, i.e. what the school spent on
-- a pupil in a year that pupil had the intervention, however many blocks that took.
-- Bands are half-open, min inclusive and max exclusive (as the seed's "Under £80" reads
-- and its test checks), so exactly £80 is "low" and exactly £200 "moderate"; the top
-- band has no max. Training is counted in the year it was bought, not spread over three
-- years as the EEF does, so a first-year cost can sit one band high.
with scoped as (
    select e.school_urn as scope_urn, false as is_trust_total, e.*
    from marts.provision_enrolment as e
    union all
    select 'TRUST' as scope_urn, true as is_trust_total, e.*
    from marts.provision_enrolment as e
),

summary as (
    select
        s.scope_urn as school_urn,
        s.intervention_code,
        s.is_trust_total,
        max(s.as_of_date) as as_of_date,
        count(*) as enrolments,
        count(distinct s.pupil_key) as pupils,
        count(distinct case when s.is_current then s.pupil_key end) as current_pupils,
        sum(s.sessions_planned) as sessions_planned,
        sum(s.sessions_delivered) as sessions_delivered,
        sum(case when s.has_session_records then 1 else 0 end) as enrolments_with_session_records,
        sum(case when s.has_session_records then s.sessions_planned else 0 end)
            as sessions_planned_with_records,
        sum(case when s.has_session_records then s.sessions_delivered else 0 end)
            as sessions_delivered_with_records,
        sum(s.minutes_delivered) as minutes_delivered,
        sum(s.minutes_attended) as minutes_attended,
        sum(s.cost_per_pupil) as total_cost,
        avg(s.cost_per_pupil) as cost_per_pupil,
        count(distinct s.pupil_key || '|' || coalesce(s.academic_year, '')) as pupil_years,
        sum(case when s.has_pre_and_post then 1 else 0 end) as with_pre_and_post,
        avg(case when s.has_pre_and_post then s.score_gain end) as mean_gain,
        stddev_samp(case when s.has_pre_and_post then s.score_gain end) as sd_gain,
        avg(s.ratio_gain) as mean_ratio_gain,
        avg(case when s.need_matches then cast(1 as double) else cast(0 as double) end)
            as need_matches_share,
        min(s.start_date) as first_start_date,
        max(s.start_date) as last_start_date
    from scoped as s
    group by s.scope_urn, s.intervention_code, s.is_trust_total
),

costed as (
    select
        m.*,
        case
            when m.sessions_planned_with_records > 0
                then cast(m.sessions_delivered_with_records as double)
                    / m.sessions_planned_with_records
        end as delivery_rate,
        m.total_cost / m.pupil_years as annual_cost_per_pupil
    from summary as m
)

select
    c.school_urn,
    c.intervention_code,
    c.is_trust_total,
    c.as_of_date,
    i.intervention_name,
    i.measure,
    i.area_of_need,
    i.target_need,
    c.enrolments,
    c.pupils,
    c.current_pupils,
    c.sessions_planned,
    c.sessions_delivered,
    c.enrolments_with_session_records,
    c.delivery_rate,
    c.minutes_delivered,
    c.minutes_attended,
    c.total_cost,
    c.cost_per_pupil,
    c.pupil_years,
    c.annual_cost_per_pupil,
    b.band as eef_cost_band,
    c.with_pre_and_post,
    c.mean_gain,
    c.sd_gain,
    c.mean_ratio_gain,
    c.need_matches_share,
    c.first_start_date,
    c.last_start_date
from costed as c
inner join core.dim_intervention as i on i.intervention_code = c.intervention_code
left join reference.eef_cost_band as b
    on c.annual_cost_per_pupil >= b.min_cost_per_pupil
    and (b.max_cost_per_pupil is null or c.annual_cost_per_pupil < b.max_cost_per_pupil)
