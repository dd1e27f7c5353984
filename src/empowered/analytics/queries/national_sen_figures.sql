-- grain: one row per SEN measure for one place ($level: 'national', 'regional' or 'la';
-- $code: its ONS code, ignored for England) and one type of school ($school_type: 'all',
-- or 'special' for a special school): the latest census that has it, from the packaged
-- seed or from a DfE file a user loaded (empowered load-national-figures); a loaded
-- figure wins over the seed's for the same census.
select measure, value, academic_year, period, source, geography_name
from (
    select
        n.*,
        row_number() over (
            partition by n.measure
            order by n.academic_year desc, n.from_file desc, n.effective_from desc, n.source
        ) as newest
    from (
        select topic, measure, "group", geography_level, geography_code, geography_name,
               school_type, value, academic_year, period, source, effective_from,
               false as from_file
        from reference.national_figure
        union all
        select topic, measure, "group", geography_level, geography_code, geography_name,
               school_type, value, academic_year, period, source, effective_from,
               true as from_file
        from meta.loaded_national_figure
    ) as n
    where n.topic = 'sen'
      and n."group" = 'all'
      and n.school_type = $school_type
      and n.geography_level = $level
      and ($level = 'national' or n.geography_code = $code)
) as ranked
where newest = 1
order by measure
