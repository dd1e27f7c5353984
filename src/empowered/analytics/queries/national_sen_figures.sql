-- grain: one row per national SEN measure for one group of schools ($group: 'all', or
-- 'special_school' for special schools): the latest census that has it
select measure, value, academic_year, period, source
from (
    select
        n.*,
        row_number() over (
            partition by n.measure order by n.effective_from desc, n.academic_year desc
        ) as newest
    from reference.national_figure as n
    where n.topic = 'sen' and n."group" = $group
) as ranked
where newest = 1
order by measure
