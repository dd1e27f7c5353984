-- grain: one row per accepted version of one enrolment, newest first: the enrolment's history
-- Every save lands a new version of the enrolment (staging keeps them; the latest is
-- current), so a start, its measures, its end and a move to another group each show here.
select
    e.enrolment_id,
    e.pupil_key,
    e.school_urn,
    e.intervention_code,
    e.staff_id,
    cast(e.start_date as varchar) as start_date,
    cast(e.end_date as varchar) as end_date,
    cast(e.sessions_planned as varchar) as sessions_planned,
    cast(e.pre_date as varchar) as pre_date,
    cast(e.pre_score as varchar) as pre_score,
    cast(e.post_date as varchar) as post_date,
    cast(e.post_score as varchar) as post_score,
    e.group_id,
    e.reason,
    e.end_reason,
    e._is_current as is_current,
    b.loaded_at,
    b.source
from staging.stg_canonical_provision_enrolments as e
inner join meta.batches as b on b.batch_id = e._batch_id
where e.enrolment_id = $enrolment_id and e._reject_reason is null
order by e._batch_id desc, e._source_row desc
