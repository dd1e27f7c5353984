-- grain: one row per national SEN measure for all pupils: the latest census that has it
select measure, value, academic_year, period, source
from (
    select
        n.*,
        row_number() over (
            partition by n.measure order by n.effective_from desc, n.academic_year desc
        ) as newest
    from reference.national_figure as n
    where n.topic = 'sen' and n."group" = 'all'
) as ranked
where newest = 1
order by measure
