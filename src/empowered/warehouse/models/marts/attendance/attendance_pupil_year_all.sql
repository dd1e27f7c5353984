-- grain: one row per pupil per school per academic year with possible sessions, from the session marks where the pupil has any that year, else from the summaries the school sent
-- unique_key: [pupil_key, school_urn, academic_year]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, academic_year, period_start, period_end, possible, present, authorised, unauthorised, absence_rate, attendance_rate, persistent_absence, severe_absence, is_latest_year, attendance_source, attendance_source_text]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- accepted_values:
--   attendance_source: [session_marks, school_summary]
--   attendance_source_text: [from session marks, from a summary the school sent]
-- checks:
--   - name: severe_absence_is_also_persistent
--     sql: >-
--       select * from marts.attendance_pupil_year_all where severe_absence and not persistent_absence
-- The one year figure the register and its questions read, whichever way the school
-- sends attendance, so a school that sends only per-pupil summaries is asked the same
-- questions as one that sends the register. attendance_source says which it is, and
-- attendance_source_text is how a page says so.
-- From the marks: marts.attendance_pupil_year as it is (period_start and period_end are
-- the school year's first and last school day). From summaries: the summaries counted
-- for the year (marts.attendance_summary_period) added up, over the first start to the
-- last end; they give no last six weeks, so the falling-attendance columns stay null.
-- DfE definitions, for both: absence rate = sessions missed (authorised or not) /
-- possible sessions, approved educational activity being attended, not missed;
-- persistent absence = 10% or more missed, severe absence = 50% or more.
with school_years as (
    select school_urn, academic_year, is_latest_year
    from marts.school_year_as_of
),

summary_years as (
    select
        pupil_key,
        school_urn,
        academic_year,
        min(period_start) as period_start,
        max(period_end) as period_end,
        sum(possible) as possible,
        sum(present) as present,
        sum(authorised) as authorised,
        sum(unauthorised) as unauthorised
    from marts.attendance_summary_period
    group by pupil_key, school_urn, academic_year
    having sum(possible) > 0
)

select
    m.pupil_key,
    m.school_urn,
    m.academic_year,
    m.year_start as period_start,
    m.year_end as period_end,
    m.possible,
    m.present,
    m.authorised,
    m.unauthorised,
    m.absence_rate,
    m.attendance_rate,
    m.persistent_absence,
    m.severe_absence,
    m.attendance_rate_last_6_weeks,
    m.attendance_rate_before_last_6_weeks,
    m.is_latest_year,
    'session_marks' as attendance_source,
    'from session marks' as attendance_source_text
from marts.attendance_pupil_year as m
union all
select
    s.pupil_key,
    s.school_urn,
    s.academic_year,
    s.period_start,
    s.period_end,
    s.possible,
    s.present,
    s.authorised,
    s.unauthorised,
    cast(s.authorised + s.unauthorised as double) / cast(s.possible as double) as absence_rate,
    cast(s.present as double) / cast(s.possible as double) as attendance_rate,
    cast(s.authorised + s.unauthorised as double) / cast(s.possible as double) >= 0.1
        as persistent_absence,
    cast(s.authorised + s.unauthorised as double) / cast(s.possible as double) >= 0.5
        as severe_absence,
    cast(null as double) as attendance_rate_last_6_weeks,
    cast(null as double) as attendance_rate_before_last_6_weeks,
    coalesce(y.is_latest_year, false) as is_latest_year,
    'school_summary' as attendance_source,
    'from a summary the school sent' as attendance_source_text
from summary_years as s
left join school_years as y
    on y.school_urn = s.school_urn and y.academic_year = s.academic_year
