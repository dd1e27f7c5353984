-- grain: one row per pupil per school per period a report adds attendance up over
-- unique_key: [pupil_key, school_urn, period_start, period_end]
-- incremental:
--   by: pupil_key
-- not_null: [pupil_key, school_urn, period_end, possible, from_other_school]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
-- For schools, or years, with no session marks: what a per-pupil attendance report
-- (possible, present, approved educational activity, authorised, unauthorised, late) says.
-- Attending counts approved educational activity as present, as the DfE's attendance
-- figures do; a summary that gives no start is a period that ends on period_end.
-- from_other_school marks a transfer file's record of the pupil's earlier school (named
-- by its URN or LA and establishment number as the file gives them): history from that
-- school, which this school's attendance figures never count (marts.attendance_summary_period).
select
    pupil_key,
    school_urn,
    period_start,
    period_end,
    possible,
    present,
    approved_activity,
    present + coalesce(approved_activity, 0) as attended,
    authorised,
    unauthorised,
    late,
    from_school_urn,
    from_school_laestab,
    coalesce(from_school_urn, from_school_laestab) is not null as from_other_school,
    case
        when possible > 0 then (present + coalesce(approved_activity, 0)) * 1.0 / possible
    end as attendance_rate
from staging.stg_canonical_attendance_summary
where _is_current
