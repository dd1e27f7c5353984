-- grain: one row per pupil per intervention enrolment, with need match, delivery, gain and cost as of the school's as_of_date
-- unique_key: [enrolment_id]
-- incremental:
--   by: pupil_key
-- not_null: [enrolment_id, pupil_key, school_urn, intervention_code, start_date, need_matches, is_current, in_as_of_year, has_session_records, has_pre_and_post]
-- relationships:
--   pupil_key: core.dim_pupil.pupil_key
--   school_urn: core.dim_school.school_urn
--   intervention_code: core.dim_intervention.intervention_code
-- checks:
--   - name: delivered_at_most_planned
--     severity: warn
--     sql: >-
--       select * from marts.provision_enrolment where delivery_rate > 1
--   - name: ratio_gain_only_for_age_measures
--     sql: >-
--       select * from marts.provision_enrolment
--       where ratio_gain is not null
--         and measure not in ('reading_age_months', 'spelling_age_months')
--   - name: cost_parts_add_up
--     sql: >-
--       select * from marts.provision_enrolment
--       where abs(staff_cost + materials_and_training_cost - cost_per_pupil) > 0.000001
-- "Current" is as of the school's as_of_date (marts.school_as_of: its latest
-- attendance session, else its latest observation) or its latest delivered provision
-- session if later, never today's date; end_date is the
-- last day of the enrolment, inclusive.
-- The pupil's need is the primary need in force on start_date: that is what the
-- intervention was chosen against, even if the need was re-assessed later. need_matches
-- is true when it equals the intervention's target_need, or when its broad area (code or
-- name, either may be typed in a tracker) equals the intervention's area_of_need; a pupil
-- with no recorded need matches nothing.
-- Ratio gain (Brooks) applies to reading and spelling ages: months of age gained per
-- month elapsed between pre and post tests, with a month = 365.25 / 12 days. The
-- delivery rate divides by sessions_planned (the promise made), not sessions recorded,
-- and is empty when no session was recorded at all: a tracker that keeps only the
-- enrolment (no session register) says nothing about delivery, which is not 0%.
-- Cost is for what the pupil actually received: the minutes they attended of sessions
-- delivered (a session register's attended; core.fct_provision_enrolment).
with need_at_start as (
    select
        e.enrolment_id,
        h.sen_provision,
        h.primary_need,
        h.primary_broad_area,
        b.name as primary_broad_area_name
    from core.fct_provision_enrolment as e
    inner join core.dim_sen_status_history as h
        on h.pupil_key = e.pupil_key
        and h.school_urn = e.school_urn
        and h.valid_from <= e.start_date
        and (h.valid_to is null or e.start_date < h.valid_to)
    left join reference.broad_area as b on b.code = h.primary_broad_area
),

-- Provision is "now" as of the school's as_of_date or, if later, its latest delivered
-- session: groups the web app records this term come after the last attendance import,
-- and comparing them with that import's last day made every enrolment look finished.
provision_as_of as (
    select
        a.school_urn,
        greatest(a.as_of_date, coalesce(max(s.session_date), a.as_of_date)) as current_on
    from marts.school_as_of as a
    left join core.fct_provision_enrolment as e on e.school_urn = a.school_urn
    left join core.fct_provision_session as s
        on s.enrolment_id = e.enrolment_id and s.delivered
    group by a.school_urn, a.as_of_date
),

enrolments as (
    select
        e.enrolment_id,
        e.pupil_key,
        e.school_urn,
        e.intervention_code,
        i.intervention_name,
        i.area_of_need,
        i.target_need,
        n.sen_provision as sen_provision_at_start,
        n.primary_need as pupil_primary_need,
        n.primary_broad_area as pupil_broad_area,
        coalesce(n.primary_need = i.target_need, false) as matches_target_need,
        coalesce(
            n.primary_need = i.target_need
            or lower(trim(i.area_of_need)) = lower(n.primary_broad_area)
            or lower(trim(i.area_of_need)) = lower(n.primary_broad_area_name),
            false
        ) as need_matches,
        e.start_date,
        e.end_date,
        coalesce(c.academic_year, d.academic_year) as academic_year,
        a.as_of_date,
        a.as_of_date is not null
        and e.start_date <= p.current_on
        and (e.end_date is null or e.end_date >= p.current_on) as is_current,
        a.as_of_date is not null
        and e.start_date <= a.as_of_date
        and (e.end_date is null or e.end_date >= a.as_of_year_start) as in_as_of_year,
        e.staff_id,
        e.sessions_planned,
        e.sessions_recorded,
        e.sessions_delivered,
        e.sessions_recorded > 0 as has_session_records,
        case
            when e.sessions_planned > 0 and e.sessions_recorded > 0
                then cast(e.sessions_delivered as double) / e.sessions_planned
        end as delivery_rate,
        e.minutes_delivered,
        e.sessions_attended,
        e.minutes_attended,
        e.group_id,
        e.reason,
        e.end_reason,
        e.measure,
        e.pre_date,
        e.pre_score,
        e.post_date,
        e.post_score,
        e.score_gain,
        cast(date_diff('day', e.pre_date, e.post_date) as double) * 12 / 365.25
            as months_elapsed,
        e.cost_per_pupil,
        e.staff_cost,
        e.materials_and_training_cost,
        e.pre_score is not null and e.post_score is not null as has_pre_and_post,
        e.batch_id
    from core.fct_provision_enrolment as e
    inner join core.dim_intervention as i on i.intervention_code = e.intervention_code
    left join need_at_start as n on n.enrolment_id = e.enrolment_id
    left join marts.school_as_of as a on a.school_urn = e.school_urn
    left join provision_as_of as p on p.school_urn = e.school_urn
    left join core.dim_school_calendar as c
        on c.school_urn = e.school_urn and c.date_day = e.start_date
    left join core.dim_date as d on d.date_day = e.start_date
)

select
    enrolment_id,
    pupil_key,
    school_urn,
    intervention_code,
    intervention_name,
    area_of_need,
    target_need,
    sen_provision_at_start,
    pupil_primary_need,
    pupil_broad_area,
    matches_target_need,
    need_matches,
    start_date,
    end_date,
    academic_year,
    as_of_date,
    is_current,
    in_as_of_year,
    staff_id,
    sessions_planned,
    sessions_recorded,
    sessions_delivered,
    has_session_records,
    delivery_rate,
    minutes_delivered,
    sessions_attended,
    minutes_attended,
    group_id,
    reason,
    end_reason,
    measure,
    pre_date,
    pre_score,
    post_date,
    post_score,
    score_gain,
    months_elapsed,
    case
        when measure in ('reading_age_months', 'spelling_age_months') and months_elapsed > 0
            then score_gain / months_elapsed
    end as ratio_gain,
    cost_per_pupil,
    staff_cost,
    materials_and_training_cost,
    has_pre_and_post,
    batch_id  -- where it came from (views.provenance)
from enrolments
