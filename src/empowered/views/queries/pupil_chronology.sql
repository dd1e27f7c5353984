-- grain: one row per thing that happened to one pupil that the designated safeguarding lead's
-- chronology lists (a concern, an act on it, a safeguarding trigger, a decision on one, an
-- incident, a suspension or exclusion, a week of low attendance, an action, a child
-- protection file received), with who or what recorded it; newest first
-- Provenance: a staff account reference (app-user-N) where a person recorded it in the
-- app or an import named one, else the source (meta.batches) and file the row came from.
-- Only run for a scope the policy lets read concerns (views.concerns.chronology).
with concern as (
    select
        'concern' as kind, c.concern_on as day, c.concern_minute as minute,
        c.concern_id as entry_id, c.school_urn, c.category as what, c.place as detail,
        c.concern_text as secret_text, c.people_present as secret_people,
        c.recorded_by as recorded_by, b.source as source, c.source_file as source_file,
        c.recorded_at as recorded_at
    from core.fct_concern as c
    left join meta.batches as b on b.batch_id = c.batch_id
    where c.pupil_key = $pupil_key
),

concern_act as (
    select
        'concern_' || e.event as kind, try_cast(e.recorded_at as date) as day,
        hour(try_cast(e.recorded_at as timestamp)) * 60
            + minute(try_cast(e.recorded_at as timestamp)) as minute,
        c.concern_id as entry_id, e.school_urn, e.event as what, e.staff as detail,
        null as secret_text, null as secret_people,
        e.recorded_by, b.source, null as source_file, e.recorded_at
    from core.fct_concern_event as e
    inner join core.fct_concern as c on c.concern_key = e.concern_key
    left join meta.batches as b on b.batch_id = e.batch_id
    where c.pupil_key = $pupil_key
),

trig as (
    select
        'trigger' as kind, t.first_fired_on as day, null as minute,
        t.rule_id as entry_id, t.school_urn, t.rule_label as what,
        -- The rule's wording filled with the figures of the window it first fired in (as
        -- analytics.triggers does for the queue), never its raw {placeholders}.
        replace(replace(replace(replace(replace(t.wording,
            '{window_start}', coalesce(strftime(t.window_start, '%-d %B %Y'), '')),
            '{window_end}', coalesce(strftime(t.window_end, '%-d %B %Y'), '')),
            '{window_school_weeks}', coalesce(cast(t.window_school_weeks as varchar), '')),
            '{threshold}', case when t.kind = 'absence_rate'
                then format('{:.0f}%', 100 * t.threshold) else format('{:g}', t.threshold) end),
            '{value}', case when t.kind = 'absence_rate'
                then format('{:.0f}%', 100 * t.value_at_first)
                else format('{:g}', t.value_at_first) end) as detail,
        null as secret_text, null as secret_people,
        null as recorded_by, 'EmpowerED+ trigger rules' as source,
        t.evidence_source as source_file, null as recorded_at
    from marts.safeguarding_trigger as t
    where t.pupil_key = $pupil_key
),

decision as (
    select
        'decision' as kind, cast(r."at" as date) as day,
        hour(r."at") * 60 + minute(r."at") as minute,
        r.trigger_id as entry_id, r.school_urn, r.kind as what,
        coalesce(r.decision, r.action_text, r.note) as detail,
        null as secret_text, null as secret_people,
        'app-user-' || cast(r.user_id as varchar) as recorded_by, 'app-trigger-review' as source,
        null as source_file, cast(r."at" as varchar) as recorded_at
    from app.trigger_reviews as r
    where r.pupil_key = $pupil_key
),

incident as (
    select
        'incident' as kind, i.occurred_on as day, i.occurred_minute as minute,
        i.incident_id as entry_id, i.school_urn, i.behaviour as what,
        cast(i.intensity as varchar) as detail,
        null as secret_text, null as secret_people,
        i.staff_id as recorded_by, b.source, s._source_file as source_file, null as recorded_at
    from core.fct_behaviour_incident as i
    left join staging.stg_canonical_incidents as s
        on s._is_current and s.school_urn = i.school_urn and s.incident_id = i.incident_id
    left join meta.batches as b on b.batch_id = s._batch_id
    where i.pupil_key = $pupil_key
),

exclusion as (
    select
        'exclusion' as kind, x.start_date as day, null as minute,
        x.exclusion_id as entry_id, x.school_urn, x.category as what,
        cast(x.sessions as varchar) as detail,
        null as secret_text, null as secret_people,
        null as recorded_by, b.source, s._source_file as source_file, null as recorded_at
    from core.fct_exclusion as x
    left join staging.stg_canonical_exclusions as s
        on s._is_current and s.school_urn = x.school_urn and s.exclusion_id = x.exclusion_id
    left join meta.batches as b on b.batch_id = s._batch_id
    where x.pupil_key = $pupil_key
),

attendance as (
    select
        'attendance' as kind, w.week_end as day, null as minute,
        cast(w.academic_year as varchar) || '-' || cast(w.school_week as varchar) as entry_id,
        w.school_urn, null as what,
        cast(cast(round(w.attendance_rate * 100) as integer) as varchar) as detail,
        null as secret_text, null as secret_people,
        null as recorded_by, 'attendance marks' as source, null as source_file,
        null as recorded_at
    from marts.attendance_pupil_week as w
    where w.pupil_key = $pupil_key and w.attendance_rate < $low_attendance
),

act as (
    select
        'action' as kind, a.raised_on as day, null as minute,
        a.action_id as entry_id, a.school_urn, a.source as what, a.description as detail,
        null as secret_text, null as secret_people,
        null as recorded_by, b.source, s._source_file as source_file, null as recorded_at
    from core.fct_action as a
    left join staging.stg_canonical_actions as s
        on s._is_current and s.school_urn = a.school_urn and s.action_id = a.action_id
    left join meta.batches as b on b.batch_id = s._batch_id
    where a.pupil_key = $pupil_key
),

cp_file as (
    select
        'cp_file' as kind, f.received_on as day, null as minute,
        f.transfer_id as entry_id, f.school_urn, null as what, cast(f.sent_on as varchar) as detail,
        f.new_school as secret_text, null as secret_people,
        f.recorded_by, 'app-cp-file' as source, null as source_file, f.recorded_at
    from core.fct_cp_file_transfer as f
    where f.pupil_key = $pupil_key
),

everything as (
    select * from concern
    union all select * from concern_act
    union all select * from trig
    union all select * from decision
    union all select * from incident
    union all select * from exclusion
    union all select * from attendance
    union all select * from act
    union all select * from cp_file
)

select e.*
from everything as e
where e.day is not null
    and ($scope_schools is null or list_contains($scope_schools, e.school_urn))
    and ($scope_pupils is null or list_contains($scope_pupils, $pupil_key))
order by e.day desc, e.minute desc nulls last, e.kind, e.entry_id
