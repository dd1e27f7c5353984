-- grain: one row per note (and report) a visiting professional or the SENCo filed in the
--   app about a pupil of $school (current row)
select
    c.contribution_id, c.pupil_key, c.visited_on, c.area, c.title, c.note, c.author,
    c.author_role, c.organisation, c.file_name, c.file_sha256, c.saved_at
from staging.stg_canonical_contributions as c
where c._is_current and c.school_urn = $school
    and c._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by c.visited_on, c.contribution_id
