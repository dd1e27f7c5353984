-- grain: one row per leaver's child protection file recorded in the app at $school
--   (current row)
select
    t.transfer_id, t.pupil_key, t.new_school, t.sent_on, t.received_on, t.recorded_by,
    t.recorded_at
from staging.stg_canonical_cp_file_transfers as t
where t._is_current and t.school_urn = $school
    and t._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by t.sent_on, t.transfer_id
