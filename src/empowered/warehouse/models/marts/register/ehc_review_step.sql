-- grain: one row per current EHC plan per step of its annual review, as of the school's as_of_date
-- unique_key: [plan_id, step]
-- not_null: [plan_id, pupil_key, school_urn, as_of_date, step, step_order, due_on, is_done, is_overdue, shows_from]
-- relationships:
--   plan_id: core.fct_plan.plan_id
--   pupil_key: core.dim_pupil.pupil_key
-- accepted_values:
--   step: [advice_requested, papers_sent, review_meeting, report_sent]
-- checks:
--   - name: done_steps_are_not_overdue
--     sql: select * from marts.ehc_review_step where is_done and is_overdue
-- The statutory calendar of an EHC plan's annual review (SEND Regulations 2014, reg 20;
-- Code of Practice 9.166-9.176):
--   review_meeting    the meeting, within 12 months of the last review held (or of the
--                     plan's start): core.fct_plan.review_due_on;
--   advice_requested  advice asked of everyone involved, and
--   papers_sent       the advice and papers circulated, both at least two weeks before
--                     the meeting: by review_due_on - 14 days;
--   report_sent       the review report sent within two weeks after the meeting: by the
--                     latest review meeting held + 14 days (only after a meeting recorded
--                     as such; an imported outcome review alone has no report step).
-- A step before the meeting is done when recorded after the latest review held (it is the
-- next meeting's); the report when recorded on or after the meeting. The meeting itself is
-- never "done" here: once held it starts the next cycle. A step shows on the SENCo's home
-- page from shows_from (six weeks before it falls due) until it is done.
with plans as (
    select
        p.plan_id,
        p.pupil_key,
        p.school_urn,
        a.as_of_date,
        p.start_date,
        p.review_due_on,
        p.last_held_review_on,
        m.last_meeting_on
    from core.fct_plan as p
    inner join marts.school_as_of as a on a.school_urn = p.school_urn
    left join (
        select plan_id, max(held_on) as last_meeting_on
        from core.fct_review_meeting
        group by plan_id
    ) as m on m.plan_id = p.plan_id
    where p.plan_type = 'ehc_plan'
        and p.start_date <= a.as_of_date
        and (p.end_date is null or p.end_date >= a.as_of_date)
),

steps as (
    select
        plan_id, pupil_key, school_urn, as_of_date, 'advice_requested' as step, 1 as step_order,
        cast(review_due_on - interval 14 day as date) as due_on,
        coalesce(last_held_review_on, cast(start_date - interval 1 day as date)) as counts_after
    from plans
    union all
    select
        plan_id, pupil_key, school_urn, as_of_date, 'papers_sent', 2,
        cast(review_due_on - interval 14 day as date),
        coalesce(last_held_review_on, cast(start_date - interval 1 day as date))
    from plans
    union all
    select
        plan_id, pupil_key, school_urn, as_of_date, 'review_meeting', 3, review_due_on,
        cast(null as date)
    from plans
    union all
    select
        plan_id, pupil_key, school_urn, as_of_date, 'report_sent', 4,
        cast(last_meeting_on + interval 14 day as date),
        cast(last_meeting_on - interval 1 day as date)
    from plans
    where last_meeting_on is not null and last_meeting_on >= coalesce(last_held_review_on, last_meeting_on)
),

done as (
    select s.plan_id, s.step, max(r.done_on) as done_on
    from steps as s
    inner join core.fct_ehc_review_step as r
        on r.plan_id = s.plan_id and r.step = s.step and r.done_on > s.counts_after
    group by s.plan_id, s.step
)

select
    s.plan_id,
    s.pupil_key,
    s.school_urn,
    s.as_of_date,
    s.step,
    s.step_order,
    s.due_on,
    d.done_on,
    d.done_on is not null as is_done,
    d.done_on is null and s.due_on < s.as_of_date as is_overdue,
    cast(s.due_on - interval 42 day as date) as shows_from
from steps as s
left join done as d on d.plan_id = s.plan_id and d.step = s.step
