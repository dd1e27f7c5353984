-- grain: one row per choice staff made on the import page of which pupil a row meant, at
--   $school (current row)
select
    m.ref_key as reference, m.pupil_key, m.decision, m.chosen_by, m.chosen_at
from staging.stg_canonical_pupil_match_choices as m
where m._is_current and m.school_urn = $school
    and m._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by m.chosen_at, m.ref_key
