-- grain: one row per account named by a staff reference in $refs (``app-user-N``, as
-- captures and contributions name who recorded them): its username, role, organisation.
select
    'app-user-' || cast(u.user_id as varchar) as ref, u.username, u.role, u.organisation
from app.users as u
where list_contains($refs, 'app-user-' || cast(u.user_id as varchar))
