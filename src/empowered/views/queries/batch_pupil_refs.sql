-- grain: one row per way the quarantined rows of one batch name a pupil that a member of staff may settle (none or several pupils match)
-- The caller has checked the batch is in the user's scope (import_batches.sql) and puts
-- the batch's raw table in place of raw.batch_rows (views/pupil_match.py). A row counts
-- only when its pupil is the reason it was quarantined. ref_key is the blind-indexed way
-- the rows name the pupil (no name, UPN or date of birth in clear); name_bidx finds the
-- pupils of that name on the roll.
with rows_of_batch as (
    select
        _row_ref_key as ref_key,
        r.pupil_name_bidx,
        r._source_row,
        r._source_item
    from raw.batch_rows as r
    where r._batch_id = $batch_id
)

select
    ref.ref_key,
    ref.school_urn,
    ref.problem_reason,
    ref.method,
    ref.matches,
    any_value(b.pupil_name_bidx) as name_bidx,
    list(distinct b._source_row order by b._source_row) as source_rows,
    count(*) as rows,
    any_value(ch.decision) as decision,
    any_value(ch.pupil_key) as chosen_key
from rows_of_batch as b
inner join quarantine.rejected_rows as q
    on q.batch_id = $batch_id and q.source_row = b._source_row and q.source_item = b._source_item
inner join staging.stg_canonical_pupil_refs as ref on ref.ref_key = b.ref_key
left join staging.stg_canonical_pupil_match_choices as ch
    on ch.ref_key = ref.ref_key and ch._is_current
where ref.can_choose and q.reason = ref.problem_reason
group by ref.ref_key, ref.school_urn, ref.problem_reason, ref.method, ref.matches
order by min(b._source_row)
