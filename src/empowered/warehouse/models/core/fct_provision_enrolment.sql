-- grain: one row per pupil per intervention enrolment, with delivery, pre/post and cost
-- unique_key: [enrolment_id]
-- not_null: [enrolment_id, pupil_key, school_urn, intervention_code, start_date]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   intervention_code: core.dim_intervention.intervention_code
-- checks:
--   - name: no_more_sessions_delivered_than_recorded
--     sql: >-
--       select * from core.fct_provision_enrolment where sessions_delivered > sessions_recorded
-- Integer minutes are cast to double before dividing: Spark would otherwise use a
-- six-place decimal and the engines would disagree in the seventh digit.
-- Cost per pupil = the adult's time for the minutes the pupil actually attended (a
-- session register's attended; a file without one: every delivered session), shared
-- across the group, plus materials and training shared across one group. sessions_delivered
-- counts the sessions held; sessions_attended those the pupil was at. Sessions are read from
-- staging (not fct_provision_session) because that fact points back at this table.
with delivery as (
    select
        enrolment_id,
        count(*) as sessions_recorded,
        sum(case when delivered then 1 else 0 end) as sessions_delivered,
        sum(case when delivered then coalesce(minutes, 0) else 0 end) as minutes_delivered,
        sum(case when delivered and coalesce(attended, true) then 1 else 0 end)
            as sessions_attended,
        sum(case when delivered and coalesce(attended, true) then coalesce(minutes, 0) else 0 end)
            as minutes_attended
    from staging.stg_canonical_provision_sessions
    where _is_current
    group by enrolment_id
)

select
    e.enrolment_id,
    e.pupil_key,
    e.school_urn,
    e.intervention_code,
    nullif(e.staff_id, '') as staff_id,
    e.start_date,
    e.end_date,
    e.sessions_planned,
    coalesce(d.sessions_recorded, 0) as sessions_recorded,
    coalesce(d.sessions_delivered, 0) as sessions_delivered,
    coalesce(d.minutes_delivered, 0) as minutes_delivered,
    coalesce(d.sessions_attended, 0) as sessions_attended,
    coalesce(d.minutes_attended, 0) as minutes_attended,
    nullif(e.group_id, '') as group_id,
    nullif(e.reason, '') as reason,
    nullif(e.end_reason, '') as end_reason,
    i.measure,
    e.pre_date,
    e.pre_score,
    e.post_date,
    e.post_score,
    e.post_score - e.pre_score as score_gain,
    cast(coalesce(d.minutes_attended, 0) as double) / 60 * coalesce(i.hourly_staff_cost, 0)
        / i.group_size
        as staff_cost,
    (coalesce(i.materials_cost, 0) + coalesce(i.training_cost, 0)) / i.group_size
        as materials_and_training_cost,
    cast(coalesce(d.minutes_attended, 0) as double) / 60 * coalesce(i.hourly_staff_cost, 0)
        / i.group_size
        + (coalesce(i.materials_cost, 0) + coalesce(i.training_cost, 0)) / i.group_size
        as cost_per_pupil,
    -- The batch it came in (meta.batches: source, file or form, when): its provenance.
    e._batch_id as batch_id
from staging.stg_canonical_provision_enrolments as e
inner join core.dim_intervention as i on i.intervention_code = e.intervention_code
left join delivery as d on d.enrolment_id = e.enrolment_id
where e._is_current
