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
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_schools where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_pupils where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_characteristics where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_sen_status where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_terms where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_closures where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_periods where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_staff where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_staff_training where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_strategies where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_interventions where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_observations where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_incidents where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_strategy_uses where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_attendance where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_assessments where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_exclusions where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_provision_enrolments where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_provision_sessions where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_plans where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_plan_outcomes where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_plan_reviews where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_actions where _reject_reason is null group by _batch_id
    union all
    select _batch_id as batch_id, count(*) as accepted
    from staging.stg_canonical_groups where _reject_reason is null group by _batch_id
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
