-- grain: one row per planned session of a pupil's intervention enrolment
-- unique_key: [enrolment_id, session_date]
-- not_null: [enrolment_id, session_date, delivered]
-- relationships:
--   enrolment_id: core.fct_provision_enrolment.enrolment_id
select
    enrolment_id,
    session_date,
    delivered,
    case when delivered then minutes else 0 end as minutes_delivered
from staging.stg_canonical_provision_sessions
where _is_current
