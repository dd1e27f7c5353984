-- grain: one row per measure and SEN status (ehc_plan, sen_support, no_sen) for England and
-- one type of school ($school_type): absence (overall and persistent) and free school meal
-- eligibility by SEN status, the latest period that has each, from the packaged seed or a
-- DfE file a user loaded (a loaded figure wins over the seed's for the same year and period)
select measure, "group", value, academic_year, period, source
from (
    select
        n.*,
        row_number() over (
            partition by n.measure, n."group"
            order by n.academic_year desc, n.from_file desc, n.effective_from desc, n.source
        ) as newest
    from (
        select topic, measure, "group", geography_level, school_type, value, academic_year,
               period, source, effective_from, false as from_file
        from reference.national_figure
        union all
        select topic, measure, "group", geography_level, school_type, value, academic_year,
               period, source, effective_from, true as from_file
        from meta.loaded_national_figure
    ) as n
    where n.geography_level = 'national'
      and n.school_type = $school_type
      and n.measure in ('overall_absence_rate', 'persistent_absence_rate', 'pct_fsm')
      and n."group" in ('ehc_plan', 'sen_support', 'no_sen')
) as ranked
where newest = 1
order by measure, "group"
