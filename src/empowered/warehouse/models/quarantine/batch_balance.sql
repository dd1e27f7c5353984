-- grain: one row per landed batch (one file's rows for one entity)
-- unique_key: [batch_id]
-- not_null: [entity, batch_id, landed, accepted, quarantined]
-- checks:
--   - name: every_landed_row_is_accepted_or_quarantined
--     sql: >-
--       select * from quarantine.batch_balance where landed <> accepted + quarantined
-- Nothing lost: every row landed ends either accepted in staging or in quarantine. The
-- check runs on every build, so a rule that drops rows silently fails the build.
with landed as (
    -- Counted when the file was landed, independently of the models. Only the batches
    -- this build set out to build (its snapshot of raw, meta.raw_snapshot): a capture
    -- saved while the build runs is the next build's, not a row lost by this one.
    select b.entity, b.batch_id, b.rows_read as landed
    from meta.batches as b
    where not exists (select 1 from meta.raw_snapshot)
        or b.batch_id in (select s.batch_id from meta.raw_snapshot as s)
),

accepted as (
    -- One arm per validated staging model (staging_spec.expand_each).
    select _batch_id as batch_id, count(*) as accepted
    from staging.each_validated_model where _reject_reason is null group by _batch_id
),

quarantined as (
    select batch_id, count(*) as quarantined
    from quarantine.rejected_rows
    group by batch_id
)

select
    l.entity,
    l.batch_id,
    l.landed,
    coalesce(a.accepted, 0) as accepted,
    coalesce(q.quarantined, 0) as quarantined
from landed as l
left join accepted as a on a.batch_id = l.batch_id
left join quarantined as q on q.batch_id = l.batch_id
