-- grain: one row per kind of record whose keeping time was set on the admin page
select
    s.category, s.years, coalesce(u.username, 'a former account') as saved_by, s.saved_at
from app.retention_settings as s
left join app.users as u on u.user_id = s.saved_by
order by s.category
