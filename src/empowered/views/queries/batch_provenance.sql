-- grain: one row per batch in $batch_ids: where the rows of that batch came from (its
-- source, file or form name, when it landed) and, for a file uploaded through the server,
-- who uploaded it (app.imports). The provenance every entry on a page can show.
select
    b.batch_id, b.source, b.file_name, b.loaded_at, i.username as uploaded_by, i.via,
    u.role as uploader_role, u.organisation as uploader_organisation
from meta.batches as b
left join app.import_batches as ib on ib.batch_id = b.batch_id
left join app.imports as i on i.import_id = ib.import_id
left join app.users as u on u.user_id = i.user_id
where list_contains($batch_ids, b.batch_id)
