-- grain: one row per pupil per school per academic year per term with at least one possible session
-- unique_key: [pupil_key, school_urn, academic_year, term]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, academic_year, term, term_start, term_end, possible, present, authorised, unauthorised, absence_rate, attendance_rate, persistent_absence, severe_absence]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   term: [autumn, spring, summer]
-- checks:
--   - name: severe_absence_is_also_persistent
--     sql: >-
--       select * from marts.attendance_pupil_term where severe_absence and not persistent_absence
-- DfE definitions: absence rate = sessions missed (authorised or unauthorised) / possible
-- sessions; persistent absence = 10% or more of possible sessions missed, severe absence =
-- 50% or more. term_start and term_end are the school's first and last school day of the
-- term, so a term still in progress ends at its last day even if the data stops sooner.
with term_days as (
    select
        school_urn,
        academic_year,
        term,
        min(date_day) as term_start,
        max(date_day) as term_end
    from core.dim_school_calendar
    where is_school_day and term is not null
    group by school_urn, academic_year, term
),

pupil_terms as (
    select
        pupil_key,
        school_urn,
        academic_year,
        term,
        sum(possible) as possible,
        sum(present) as present,
        sum(authorised) as authorised,
        sum(unauthorised) as unauthorised,
        min(week_start) as first_week_start,
        max(week_end) as last_week_end
    from marts.attendance_pupil_week
    group by pupil_key, school_urn, academic_year, term
),

rates as (
    select
        p.*,
        cast(p.authorised + p.unauthorised as double) / cast(p.possible as double)
            as absence_rate
    from pupil_terms as p
)

select
    r.pupil_key,
    r.school_urn,
    r.academic_year,
    r.term,
    coalesce(t.term_start, r.first_week_start) as term_start,
    coalesce(t.term_end, r.last_week_end) as term_end,
    r.possible,
    r.present,
    r.authorised,
    r.unauthorised,
    r.absence_rate,
    cast(r.present as double) / cast(r.possible as double) as attendance_rate,
    r.absence_rate >= 0.1 as persistent_absence,
    r.absence_rate >= 0.5 as severe_absence
from rates as r
left join term_days as t
    on t.school_urn = r.school_urn and t.academic_year = r.academic_year and t.term = r.term
