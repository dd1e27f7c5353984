-- The newest one-sentence note on one pupil's page, with who wrote it and when.
-- Grain: at most one row (the latest of app.pupil_notes for $pupil_key).
SELECT n.note, n.written_at, u.username AS written_by, u.role AS written_by_role
FROM app.pupil_notes AS n
LEFT JOIN app.users AS u ON u.user_id = n.written_by
WHERE n.pupil_key = $pupil_key
ORDER BY n.written_at DESC, n.note_id DESC
LIMIT 1
