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
    -- Counted when the file was landed, independently of the models.
    select entity, batch_id, rows_read as landed
    from meta.batches
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
