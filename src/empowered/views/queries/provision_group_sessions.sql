-- grain: one row per day a group's register was recorded: delivered or missed (with why), how many attended of how many members
select
    s.session_date,
    bool_or(s.delivered) as delivered,
    max(s.missed_reason) as missed_reason,
    count(*) as members,
    count(*) filter (where s.attended) as attended,
    max(s.minutes_delivered) as minutes,
    max(s.recorded_by) as recorded_by
from core.fct_provision_session as s
where s.group_id = $group_id
group by s.session_date
order by s.session_date desc
limit $limit
