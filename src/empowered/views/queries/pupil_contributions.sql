-- grain: one row per contribution (a visiting professional's note) about one pupil, newest
-- visit first, with its provenance: the account's username, the role and organisation it
-- wrote as, when it was entered and through which form (meta.batches). Title, note and file
-- name are still ciphertext: the view service decrypts them for areas the user may see.
select
    c.contribution_key, c.contribution_id, c.school_urn, c.area, c.title, c.note,
    c.visited_on, c.author, u.username as author_username, c.author_role, c.organisation,
    c.file_name, c.file_sha256, b.source, b.file_name as source_form, b.loaded_at
from core.fct_contribution as c
left join meta.batches as b on b.batch_id = c.batch_id
left join app.users as u on 'app-user-' || cast(u.user_id as varchar) = c.author
where c.pupil_key = $pupil_key
    and ($scope_schools is null or list_contains($scope_schools, c.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, c.pupil_key))
order by c.visited_on desc, b.loaded_at desc, c.contribution_key
