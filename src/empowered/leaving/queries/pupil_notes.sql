-- grain: one row per version of the note on the page of a pupil ever on the roll of
--   $school (every version is kept)
select
    n.note_id, n.pupil_key, n.note, coalesce(u.username, 'a former account') as written_by,
    n.written_at
from app.pupil_notes as n
left join app.users as u on u.user_id = n.written_by
where n.pupil_key in (select pupil_key from core.fct_enrolment where school_urn = $school)
order by n.pupil_key, n.written_at, n.note_id
