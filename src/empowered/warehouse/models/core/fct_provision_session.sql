-- grain: one row per planned session of a pupil's intervention enrolment
-- unique_key: [enrolment_id, session_date]
-- not_null: [enrolment_id, session_date, delivered, attended]
-- relationships:
--   enrolment_id: core.fct_provision_enrolment.enrolment_id
-- attended: the register's answer; a file without one (attended blank) is read as the
-- pupil attending every delivered session. A session not delivered is never attended.
select
    enrolment_id,
    session_date,
    delivered,
    delivered and coalesce(attended, true) as attended,
    case when delivered then minutes else 0 end as minutes_delivered,
    case when delivered and coalesce(attended, true) then minutes else 0 end
        as minutes_attended,
    nullif(group_id, '') as group_id,
    nullif(missed_reason, '') as missed_reason,
    nullif(recorded_by, '') as recorded_by
from staging.stg_canonical_provision_sessions
where _is_current
