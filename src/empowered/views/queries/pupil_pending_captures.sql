-- grain: one row per row captured for one pupil that landed in raw but is not yet in core
-- (the rebuild after a capture has not run yet), newest batch first
-- A captured row the rebuild quarantined is no longer pending: it is in quarantine.rejected_rows.
-- Only batches from $since_batch on (recent_capture_batch.sql): a range raw's zone maps can skip.
with pupil as (
    select i.pupil_key, i.school_urn, i.upn_bidx
    from core.pupil_identity as i
    where i.pupil_key = $pupil_key
        and ($scope_schools is null or list_contains($scope_schools, i.school_urn))
        and ($scope_pupils is null or list_contains($scope_pupils, i.pupil_key))
),

captured as (
    select batch_id from meta.batches where source = 'capture' and batch_id >= $since_batch
),

rejected as (
    select entity, batch_id, source_row from quarantine.rejected_rows
    where batch_id in (select batch_id from captured)
),

pending as (
    select
        'check_in' as kind, r._batch_id as batch_id, r.observed_on as day_text,
        r.observed_time as time_text, r.activity, r.setting, r.mood, r.engagement,
        cast(null as varchar) as strategy_code, cast(null as varchar) as outcome,
        cast(null as varchar) as antecedent, cast(null as varchar) as behaviour,
        cast(null as varchar) as consequence
    from raw.canonical_observations as r
    inner join pupil as p on p.upn_bidx = r.upn_bidx and p.school_urn = trim(r.school_urn)
    where r._batch_id >= $since_batch and r._batch_id in (select batch_id from captured)
        and not exists (
            select 1 from core.fct_observation as f
            where f.school_urn = p.school_urn and f.observation_id = trim(r.observation_id)
        )
        and not exists (
            select 1 from rejected as q
            where q.entity = 'observations' and q.batch_id = r._batch_id
                and q.source_row = r._source_row
        )
    union all
    select
        'strategy' as kind, r._batch_id as batch_id, r.used_on as day_text,
        r.used_time as time_text, r.activity, r.setting, cast(null as varchar) as mood,
        cast(null as varchar) as engagement, r.strategy_code, r.outcome,
        cast(null as varchar) as antecedent, cast(null as varchar) as behaviour,
        cast(null as varchar) as consequence
    from raw.canonical_strategy_uses as r
    inner join pupil as p on p.upn_bidx = r.upn_bidx and p.school_urn = trim(r.school_urn)
    where r._batch_id >= $since_batch and r._batch_id in (select batch_id from captured)
        and not exists (
            select 1 from core.fct_strategy_use as f
            where f.school_urn = p.school_urn and f.use_id = trim(r.use_id)
        )
        and not exists (
            select 1 from rejected as q
            where q.entity = 'strategy_uses' and q.batch_id = r._batch_id
                and q.source_row = r._source_row
        )
    union all
    select
        'incident' as kind, r._batch_id as batch_id, r.occurred_on as day_text,
        r.occurred_time as time_text, r.activity, r.setting, cast(null as varchar) as mood,
        cast(null as varchar) as engagement, cast(null as varchar) as strategy_code,
        cast(null as varchar) as outcome, r.antecedent, r.behaviour, r.consequence
    from raw.canonical_incidents as r
    inner join pupil as p on p.upn_bidx = r.upn_bidx and p.school_urn = trim(r.school_urn)
    where r._batch_id >= $since_batch and r._batch_id in (select batch_id from captured)
        and not exists (
            select 1 from core.fct_behaviour_incident as f
            where f.school_urn = p.school_urn and f.incident_id = trim(r.incident_id)
        )
        and not exists (
            select 1 from rejected as q
            where q.entity = 'incidents' and q.batch_id = r._batch_id
                and q.source_row = r._source_row
        )
)

select
    kind, batch_id, try_cast(day_text as date) as day, time_text, activity, setting,
    try_cast(mood as integer) as mood, try_cast(engagement as integer) as engagement,
    strategy_code, outcome, antecedent, behaviour, consequence
from pending
order by batch_id desc
