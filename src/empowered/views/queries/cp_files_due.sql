-- grain: one pupil who left a school in scope and whose child protection file the new school
-- has not yet been recorded as receiving, with the day it is due: the fifth school day after
-- the leaving date in the school's calendar (core.dim_school_calendar), else five weekdays
-- Keeping children safe in education: the file reaches the new school within five school days.
with leavers as (
    select e.pupil_key, e.school_urn, e.leaving_date
    from core.fct_enrolment as e
    where e.leaving_date is not null
        and e.leaving_date >= $since
        and ($scope_schools is null or list_contains($scope_schools, e.school_urn))
        and ($scope_pupils is null or list_contains($scope_pupils, e.pupil_key))
        and not exists (
            select 1 from core.fct_cp_file_transfer as f
            where f.pupil_key = e.pupil_key and f.school_urn = e.school_urn
        )
),

school_days as (
    select
        l.pupil_key, l.school_urn, c.date_day,
        row_number() over (partition by l.pupil_key, l.school_urn order by c.date_day) as n
    from leavers as l
    inner join core.dim_school_calendar as c
        on c.school_urn = l.school_urn and c.date_day > l.leaving_date and c.is_school_day
)

select
    l.pupil_key, l.school_urn, l.leaving_date,
    coalesce(
        d.date_day,
        -- Past the calendar's end (no terms sent that far): five weekdays.
        l.leaving_date + cast(
            case isodow(l.leaving_date) when 6 then 6 when 7 then 5 else 7 end
            as integer)
    ) as due_on,
    d.date_day is not null as from_calendar
from leavers as l
left join school_days as d
    on d.pupil_key = l.pupil_key and d.school_urn = l.school_urn and d.n = $school_days
order by due_on, l.pupil_key
