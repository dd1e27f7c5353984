-- grain: one row per outcome (quarantined or warning), column and reason in one batch
-- The caller has checked the batch is in the user's scope (import_batches.sql).
select 'quarantined' as outcome, column_name, reason, count(*) as rows
from quarantine.rejected_rows
where batch_id = $batch_id
group by all
union all
select 'warning' as outcome, column_name, reason, count(*) as rows
from quarantine.accepted_with_warnings
where batch_id = $batch_id
group by all
order by outcome, rows desc, reason, column_name
