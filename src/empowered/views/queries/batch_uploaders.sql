-- grain: one row per batch in $batch_ids that a file uploaded through the server landed
-- (app.imports: the upload page or the inbox), with the account that uploaded it.
select ib.batch_id, i.username, i.via, u.role, u.organisation
from app.import_batches as ib
join app.imports as i on i.import_id = ib.import_id
left join app.users as u on u.user_id = i.user_id
where list_contains($batch_ids, ib.batch_id)
