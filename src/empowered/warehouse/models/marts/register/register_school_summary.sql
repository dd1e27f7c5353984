-- grain: one row per school on its as_of_date, plus one row for the whole trust (school_urn 'TRUST')
-- unique_key: [school_urn]
-- not_null: [school_urn, scope, as_of_date, academic_year, pupils_on_roll, no_sen, sen_support, ehc_plan, sen_with_current_plan, sen_without_current_plan, sen_persistent_absence, sen_low_attendance_no_plan]
-- accepted_values:
--   scope: [school, trust]
-- checks:
--   - name: register_adds_up_to_the_roll
--     sql: >-
--       select * from marts.register_school_summary
--       where no_sen + sen_support + ehc_plan <> pupils_on_roll
--       or sen_with_current_plan + sen_without_current_plan <> sen_support + ehc_plan
-- The trust's figures are one extra row with school_urn 'TRUST' (scope 'trust'), not a
-- separate table, so a page compares a school with its trust from one query. The trust
-- row's as_of_date and academic_year are the latest of its schools'.
-- Percentages are of pupils on roll (0 to 100, doubles), computed from exact counts: this
-- table is protected by access control and disclosure control is applied when figures
-- are shown, never here. The national percentages are the latest January census figures
-- in reference.national_figure (pct_sen_support, pct_ehc_plan), with their year and source.
-- sen_low_attendance_no_plan: pupils on the register (K or E) whose attendance this
-- academic year is below 90% and who have no current plan.
with per_school as (
    select
        school_urn,
        'school' as scope,
        max(as_of_date) as as_of_date,
        max(academic_year) as academic_year,
        count(*) as pupils_on_roll,
        sum(case when sen_provision = 'N' then 1 else 0 end) as no_sen,
        sum(case when sen_provision = 'K' then 1 else 0 end) as sen_support,
        sum(case when sen_provision = 'E' then 1 else 0 end) as ehc_plan,
        sum(case when on_register and has_current_plan then 1 else 0 end)
            as sen_with_current_plan,
        sum(case when on_register and not has_current_plan then 1 else 0 end)
            as sen_without_current_plan,
        sum(case when on_register and persistent_absence then 1 else 0 end)
            as sen_persistent_absence,
        sum(
            case when on_register and attendance_rate < 0.9 and not has_current_plan then 1 else 0 end
        ) as sen_low_attendance_no_plan
    from marts.register_pupil
    group by school_urn
),

trust as (
    select
        'TRUST' as school_urn,
        'trust' as scope,
        max(as_of_date) as as_of_date,
        max(academic_year) as academic_year,
        sum(pupils_on_roll) as pupils_on_roll,
        sum(no_sen) as no_sen,
        sum(sen_support) as sen_support,
        sum(ehc_plan) as ehc_plan,
        sum(sen_with_current_plan) as sen_with_current_plan,
        sum(sen_without_current_plan) as sen_without_current_plan,
        sum(sen_persistent_absence) as sen_persistent_absence,
        sum(sen_low_attendance_no_plan) as sen_low_attendance_no_plan
    from per_school
),

summary as (
    select * from per_school
    union all
    select * from trust where pupils_on_roll is not null
),

national as (
    select
        measure,
        value,
        academic_year,
        source,
        row_number() over (
            partition by measure order by academic_year desc, effective_from desc, period
        ) as n
    from reference.national_figure
    where topic = 'sen' and measure in ('pct_sen_support', 'pct_ehc_plan') and "group" = 'all'
        and geography_level = 'national' and school_type = 'all'
)

select
    s.school_urn,
    s.scope,
    s.as_of_date,
    s.academic_year,
    s.pupils_on_roll,
    s.no_sen,
    s.sen_support,
    s.ehc_plan,
    100.0 * cast(s.sen_support as double) / cast(nullif(s.pupils_on_roll, 0) as double)
        as pct_sen_support,
    100.0 * cast(s.ehc_plan as double) / cast(nullif(s.pupils_on_roll, 0) as double)
        as pct_ehc_plan,
    100.0 * cast(s.sen_support + s.ehc_plan as double)
        / cast(nullif(s.pupils_on_roll, 0) as double) as pct_sen,
    s.sen_with_current_plan,
    s.sen_without_current_plan,
    s.sen_persistent_absence,
    s.sen_low_attendance_no_plan,
    ns.value as national_pct_sen_support,
    ne.value as national_pct_ehc_plan,
    ns.academic_year as national_academic_year,
    ns.source as national_source
from summary as s
left join national as ns on ns.measure = 'pct_sen_support' and ns.n = 1
left join national as ne on ne.measure = 'pct_ehc_plan' and ne.n = 1
