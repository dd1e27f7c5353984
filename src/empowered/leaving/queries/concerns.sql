-- grain: one row per safeguarding concern recorded in the app at $school (current row)
select
    c.concern_id, c.pupil_key, c.concern_on as date,
    printf('%02d:%02d', c.concern_minute // 60, c.concern_minute % 60) as time,
    c.place, c.category, c.concern_text as concern, c.people_present, c.recorded_by,
    c.recorded_at
from staging.stg_canonical_concerns as c
where c._is_current and c.school_urn = $school
    and c._batch_id in (select batch_id from meta.batches where list_contains($sources, source))
order by c.concern_on, c.concern_minute, c.concern_id
