"""The pupil page: the whole child on one page, from the pupil's own rows.

:func:`pupil_picture` checks the pupil is in the caller's scope first (raising
:class:`~empowered.views.OutOfScope` otherwise), then reads each section with a named,
scoped query. Whole-school analytics (what helps, harder situations) come from a
:class:`~empowered.views.cache.SchoolAnalyticsCache`: they are computed over the pupil's
whole school, because their false-discovery control needs every child, and the pupil's
rows are picked out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import duckdb

from empowered.access.sections import MEASURE_AREA, Section
from empowered.analytics.early_signs import (
    Alert,
    IndicatorView,
    attainment_indicator,
    behaviour_indicator,
    indicator_view,
)
from empowered.analytics.situations import (
    AfterAntecedent,
    Scatterplot,
    StandingSituation,
    behaviour_after_antecedent,
    scatterplot,
)
from empowered.analytics.strategies import StrategyEffect, for_pupil
from empowered.analytics.wording import count_phrase, day_text, number, percent
from empowered.charts import Chart, bar_chart, line_chart, scatterplot_grid
from empowered.identity import IdentityReader, identity_reader
from empowered.provision import MEASURES
from empowered.sources.capture import ENGAGEMENT, MOODS, OUTCOMES
from empowered.views import OutOfScope, PupilScope, queries
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache
from empowered.views.provenance import attach_provenance
from empowered.views.pupil_changes import PupilChanges, pupil_changes
from empowered.views.school_words import year_label
from empowered.views.timeline import RECENT_RECORDS, TimelineEvent, build_timeline

Row = dict[str, Any]
RECENT_INCIDENTS = 20
SCATTERPLOT_DAYS = 15  # three school weeks: enough to see a pattern, cells wide enough to read
REVIEW_DUE_SOON_DAYS = 28
TIMELINE_LABELS = {"mood": dict(MOODS), "engagement": dict(ENGAGEMENT), "outcome": dict(OUTCOMES)}


@dataclass(frozen=True)
class Identity:
    name: str
    upn: str
    date_of_birth: date | None
    summary: str


@dataclass(frozen=True)
class Status:
    on_roll: bool
    summary: str
    sen_provision: str | None = None  # K, E or N
    sen_provision_name: str | None = None
    primary_need: str | None = None
    primary_need_name: str | None = None
    secondary_need: str | None = None
    year_group: str | None = None
    fsm: bool | None = None
    pupil_premium: bool | None = None
    eal: bool | None = None
    looked_after: bool | None = None
    on_register_since: date | None = None
    attendance_rate: float | None = None


@dataclass(frozen=True)
class PlanOutcome:
    outcome_id: str
    area_of_need: str | None
    text: str | None
    target_date: date | None
    latest_progress: str | None
    latest_review_date: date | None


@dataclass(frozen=True)
class PlanReview:
    review_date: date
    outcome_id: str | None
    progress: str | None
    note: str | None


@dataclass(frozen=True)
class Plan:
    plan_id: str
    plan_type: str
    start_date: date
    end_date: date | None
    is_current: bool
    next_review_due: date | None
    last_review_date: date | None
    review_overdue: bool
    review_due_soon: bool
    outcomes: tuple[PlanOutcome, ...]
    latest_reviews: tuple[PlanReview, ...]


@dataclass(frozen=True)
class Plans:
    plans: tuple[Plan, ...]
    summary: str


@dataclass(frozen=True)
class Enrolment:
    enrolment_id: str
    intervention_code: str
    intervention_name: str
    area_of_need: str | None
    need_matches: bool
    start_date: date
    end_date: date | None
    is_current: bool
    sessions_planned: int | None
    sessions_delivered: int | None
    delivery_rate: float | None
    measure: str | None
    pre_score: float | None
    post_score: float | None
    score_gain: float | None
    ratio_gain: float | None
    cost_per_pupil: float | None
    summary: str


@dataclass(frozen=True)
class Provision:
    enrolments: tuple[Enrolment, ...]
    summary: str


@dataclass(frozen=True)
class Attendance:
    years: tuple[Row, ...]  # academic_year, possible, present, ..., attendance_rate
    terms: tuple[Row, ...]
    weekly: tuple[tuple[date, float | None], ...]  # week start, attendance rate
    summary: str


@dataclass(frozen=True)
class Wellbeing:
    mood: tuple[tuple[date, float | None], ...]  # week start, weekly mean mood (1-5)
    engagement: tuple[tuple[date, float | None], ...]
    weeks: tuple[Row, ...]
    summary: str


@dataclass(frozen=True)
class Behaviour:
    recent: tuple[Row, ...]  # newest first, at most RECENT_INCIDENTS
    incidents_total: int
    after_antecedent: tuple[AfterAntecedent, ...]
    summary: str


@dataclass(frozen=True)
class WhatHelps:
    effects: tuple[StrategyEffect, ...]
    summary: str


@dataclass(frozen=True)
class Harder:
    situations: tuple[StandingSituation, ...]  # those that stand out
    grid: Scatterplot
    summary: str


@dataclass(frozen=True)
class EarlySigns:
    view: IndicatorView
    alerts: tuple[Alert, ...]
    summary: str


@dataclass(frozen=True)
class Assessments:
    results: tuple[Row, ...]  # newest first
    summary: str


@dataclass(frozen=True)
class PupilPicture:
    pupil_key: str
    school_urn: str
    as_of: date
    identity: Identity | None  # only for identified scopes
    status: Status
    plans: Plans
    provision: Provision
    attendance: Attendance
    wellbeing: Wellbeing
    behaviour: Behaviour
    what_helps: WhatHelps
    harder: Harder
    early_signs: EarlySigns
    assessments: Assessments
    timeline: tuple[TimelineEvent, ...]
    # Lasting changes and before-and-after comparisons (views.pupil_changes).
    changes: PupilChanges = field(default_factory=PupilChanges)


def pupil_picture(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    *,
    scope: PupilScope,
    as_of: date | None = None,
    cache: SchoolAnalyticsCache | None = None,
) -> PupilPicture:
    """Everything the pupil page shows. Raises :class:`OutOfScope` for a pupil outside
    ``scope`` (or unknown), before reading anything else."""
    cache = DEFAULT_CACHE if cache is None else cache
    found = queries.rows(con, "pupil_in_scope", scope=scope, pupil_key=pupil_key)
    if not found:
        raise OutOfScope(pupil_key)
    school = str(found[0]["school_urn"])
    as_of = as_of or found[0]["as_of_date"] or date.today()

    def q(name: str, **extra: Any) -> list[Row]:
        return queries.rows(con, name, scope=scope, pupil_key=pupil_key, **extra)

    # Each section asks the policy (through the scope) before anything is read: a section
    # the user may not see is built from no rows at all, so it cannot leak into the page,
    # the timeline or the early signs.
    def shows(section: Section) -> bool:
        return scope.shows(section)

    def area(name: str) -> bool:
        return scope.shows_area(name)

    def q_if(allowed: bool, name: str, **extra: Any) -> list[Row]:
        return q(name, **extra) if allowed else []

    behaviour_ok = area("behaviour")
    all_incidents = q_if(behaviour_ok, "pupil_incidents")
    incidents = [r for r in all_incidents if r["occurred_on"] <= as_of]
    # What staff recorded (check-ins, strategies, incidents) is listed up to today even when
    # the school's as-of date (its latest attendance) is earlier: a capture shows at once.
    recorded_until = max(as_of, date.today())
    learning_ok = area("learning")
    assessments = [r for r in q_if(learning_ok, "pupil_assessments") if r["assessed_on"] <= as_of]
    attendance_ok = area("attendance")
    attendance_weeks = [
        r for r in q_if(attendance_ok, "pupil_attendance_weeks") if r["week_start"] <= as_of
    ]
    register_ok = area("register")
    plans_ok = shows(Section.PUPIL_PLANS)  # every member of staff who works with the pupil
    plan_rows = q_if(plans_ok, "pupil_plans")
    review_rows = q_if(register_ok, "pupil_plan_reviews")
    enrolment_rows = q_if(area("provision"), "pupil_enrolments")
    check_in_rows = q_if(
        area("wellbeing"), "pupil_check_ins", until=recorded_until, limit=RECENT_RECORDS
    )
    exclusion_rows = q_if(behaviour_ok, "pupil_exclusions")
    action_rows = _named_owners(con, q_if(register_ok, "pupil_actions"))
    strategy_use_rows = q_if(
        area("strategies"), "pupil_strategy_uses", until=recorded_until, limit=RECENT_RECORDS
    )
    if shows(Section.PUPIL_TIMELINE):
        # Every entry of the timeline says where it came from: who entered it and on which
        # form, or which file of which system it was imported from, and when.
        attach_provenance(
            con,
            [
                *check_in_rows,
                *plan_rows,
                *review_rows,
                *enrolment_rows,
                *all_incidents,
                *exclusion_rows,
                *action_rows,
                *assessments,
                *strategy_use_rows,
            ],
        )
    # The school's alerts are computed once per build (and warmed at start); this pupil's
    # are a slice of them, the same as computing the pupil alone. Each measure belongs to
    # an area: an attendance alert is attendance data, whatever page it appears on.
    alerts = [
        a
        for a in cache.alerts(con, school)
        if a.pupil_key == pupil_key
        and a.started_on <= as_of
        and area(MEASURE_AREA.get(a.indicator, ""))
    ]

    early = _early_signs(
        pupil_key,
        as_of,
        alerts,
        incidents,
        assessments,
        q_if(behaviour_ok, "pupil_attended_days"),
        areas=scope,
        recorded=_recorded_days(check_in_rows, attendance_weeks, as_of, area),
    )
    status_rows = q("pupil_status", school_urn=school)
    status = _status(status_rows) if shows(Section.PUPIL_STATUS) else _basic_status(status_rows)
    if not attendance_ok:
        status = replace(status, attendance_rate=None)
    picture = PupilPicture(
        pupil_key=pupil_key,
        school_urn=school,
        as_of=as_of,
        identity=_identity(q("pupil_identity"), identity_reader(scope))
        if scope.identified and shows(Section.PUPIL_IDENTITY)
        else None,
        status=status,
        plans=_plans(plan_rows, q_if(plans_ok, "pupil_plan_outcomes"), review_rows, as_of),
        provision=_provision(enrolment_rows),
        attendance=_attendance(
            q_if(attendance_ok, "pupil_attendance_years"),
            q_if(attendance_ok, "pupil_attendance_terms"),
            attendance_weeks,
        ),
        wellbeing=_wellbeing(
            [
                r
                for r in q_if(area("wellbeing"), "pupil_wellbeing_weeks")
                if r["week_start"] <= as_of
            ],
            check_in_rows,
            as_of,
        ),
        behaviour=_behaviour(incidents),
        what_helps=_what_helps(
            for_pupil(cache.strategy_effects(con, school), pupil_key)
            if shows(Section.PUPIL_WHAT_HELPS)
            else []
        ),
        harder=_harder(con, school, pupil_key, as_of, incidents, cache, allowed=behaviour_ok),
        early_signs=early,
        assessments=_assessments(assessments),
        timeline=tuple(
            e
            for e in build_timeline(
                as_of=as_of,
                sen_history=q_if(register_ok, "pupil_sen_history"),
                plans=plan_rows,
                reviews=review_rows,
                enrolments=enrolment_rows,
                incidents=[r for r in all_incidents if r["occurred_on"] <= recorded_until],
                exclusions=exclusion_rows,
                actions=action_rows,
                assessments=assessments,
                attendance_weeks=attendance_weeks,
                alerts=alerts,
                check_ins=check_in_rows,
                strategy_uses=strategy_use_rows,
                pending=_pending_captures(con, pupil_key, scope),
                recorded_until=recorded_until,
                labels=TIMELINE_LABELS,
            )
            # Belt and braces: every entry is checked against its own area as well.
            if shows(Section.PUPIL_TIMELINE) and area(e.area)
        ),
        changes=pupil_changes(con, pupil_key, scope=scope, school=school, as_of=as_of, cache=cache),
    )
    return picture


def _named_owners(con: duckdb.DuckDBPyConnection, rows: Sequence[Row]) -> list[Row]:
    """Actions with their owner's username (an action agreed in the app names an account)."""
    if not any(r.get("owner") for r in rows):
        return list(rows)
    from empowered.views.actions import owner_names

    names = owner_names(con)
    return [r | {"owner_name": names.get(str(r["owner"]))} if r.get("owner") else r for r in rows]


def _pending_captures(
    con: duckdb.DuckDBPyConnection, pupil_key: str, scope: PupilScope
) -> list[Row]:
    """Captures landed in raw that the rebuild has not reached yet (none on a warehouse
    that has never had a capture)."""
    try:
        since = queries.rows(con, "recent_capture_batch")[0]["since_batch"]
        if since is None:
            return []
        return queries.rows(
            con, "pupil_pending_captures", scope=scope, pupil_key=pupil_key, since_batch=since
        )
    except duckdb.CatalogException:  # no quarantine or meta tables: never built
        return []


# -- Sections ----------------------------------------------------------------------------


def _identity(rows: Sequence[Row], reader: IdentityReader) -> Identity | None:
    if not rows:
        return None
    r = rows[0]
    name = reader.name(r)
    upn = str(reader.upn(r["upn"]))
    return Identity(name, upn, reader.date_of_birth(r["date_of_birth"]), f"{name}, UPN {upn}.")


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _basic_status(rows: Sequence[Row]) -> Status:
    """What a user without the register area sees: on roll, and the year group only (no
    SEN status, need, free school meals, pupil premium, EAL, looked after, attendance)."""
    if not rows:
        return Status(False, "Not on roll on the school's as-of date.")
    year = rows[0].get("year_group")
    text = (f"Year {year}" if str(year).isdigit() else str(year)) if year else "On roll"
    return Status(on_roll=True, year_group=year, summary=text + ".")


def _status(rows: Sequence[Row]) -> Status:
    if not rows:
        return Status(False, "Not on roll on the school's as-of date.")
    r = rows[0]
    parts = []
    if r.get("year_group"):
        parts.append(year_label(str(r["year_group"])))  # "Reception", not "R"
    if r["on_register"]:
        need = r.get("primary_need_name") or r.get("primary_need")
        text = str(r.get("sen_provision_name") or r["sen_provision"])
        if need:
            text += f", primary need {need}"
        if r.get("on_register_since"):
            text += f", on the SEN register since {day_text(r['on_register_since'])}"
        parts.append(text)
    else:
        parts.append("not on the SEN register")
    marks = [
        label
        for label, key in (
            ("free school meals", "fsm"),
            ("pupil premium", "pupil_premium"),
            ("English as an additional language", "is_eal"),
            ("looked after", "looked_after"),
        )
        if r.get(key)
    ]
    if marks:
        parts.append(", ".join(marks))
    return Status(
        on_roll=True,
        sen_provision=r["sen_provision"],
        sen_provision_name=r.get("sen_provision_name"),
        primary_need=r.get("primary_need"),
        primary_need_name=r.get("primary_need_name"),
        secondary_need=r.get("secondary_need"),
        year_group=r.get("year_group"),
        fsm=_flag(r.get("fsm")),
        pupil_premium=_flag(r.get("pupil_premium")),
        eal=_flag(r.get("is_eal")),
        looked_after=_flag(r.get("looked_after")),
        on_register_since=r.get("on_register_since"),
        attendance_rate=r.get("attendance_rate"),
        summary="; ".join(parts) + ".",
    )


def _plans(
    plans: Sequence[Row], outcomes: Sequence[Row], reviews: Sequence[Row], as_of: date
) -> Plans:
    out = []
    for p in plans:
        current = p["start_date"] <= as_of and (p["end_date"] is None or p["end_date"] >= as_of)
        # From the latest review actually held (core.fct_plan.review_due_on), not the
        # imported next_review_due alone, which called reviewed plans overdue.
        due = p["review_due_on"]
        out.append(
            Plan(
                plan_id=str(p["plan_id"]),
                plan_type=str(p["plan_type"]),
                start_date=p["start_date"],
                end_date=p["end_date"],
                is_current=current,
                next_review_due=due,
                last_review_date=p["last_review_date"],
                review_overdue=bool(current and due is not None and due < as_of),
                review_due_soon=bool(
                    current
                    and due is not None
                    and as_of <= due <= as_of + timedelta(days=REVIEW_DUE_SOON_DAYS)
                ),
                outcomes=tuple(
                    PlanOutcome(
                        str(o["outcome_id"]),
                        o["area_of_need"],
                        o["outcome_text"],
                        o["target_date"],
                        o["latest_progress"],
                        o["latest_review_date"],
                    )
                    for o in outcomes
                    if o["plan_id"] == p["plan_id"]
                ),
                latest_reviews=tuple(
                    PlanReview(r["review_date"], r["outcome_id"], r["progress"], r["note"])
                    for r in reviews
                    if r["plan_id"] == p["plan_id"] and r["review_date"] <= as_of
                )[:5],
            )
        )
    current = [p for p in out if p.is_current]
    if not current:
        summary = "No current plan." if not out else f"No current plan ({len(out)} earlier)."
    else:
        p = current[0]
        kind = "An EHC plan" if p.plan_type == "ehc_plan" else "A support plan"
        n_outcomes = count_phrase(len(p.outcomes), "outcome")
        summary = f"{kind} since {day_text(p.start_date)}, with {n_outcomes}"
        if p.review_overdue and p.next_review_due:
            summary += f"; its review was due on {day_text(p.next_review_due)} and is overdue."
        elif p.next_review_due:
            summary += f"; next review due {day_text(p.next_review_due)}."
        else:
            summary += "."
    return Plans(tuple(out), summary)


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def _delivery_and_scores(e: Row) -> list[str]:
    """Delivery and the intervention's own scores, in words that say what was recorded: a
    tracker with no session register has not delivered 0 sessions, and its entry and exit
    scores are not assessment results (the page's Assessments section)."""
    bits = []
    if e["sessions_planned"] and e.get("has_session_records") is False:
        bits.append(f"{e['sessions_planned']} sessions planned; sessions were not recorded")
    elif e["sessions_planned"]:
        bits.append(f"{e['sessions_delivered'] or 0} of {e['sessions_planned']} sessions delivered")
    if e["score_gain"] is not None:
        what = dict(MEASURES).get(str(e["measure"]), "score").lower()
        gain = f"{float(e['score_gain']):+g}"
        if e["pre_score"] is not None and e["post_score"] is not None:
            bits.append(
                f"intervention {what} {float(e['pre_score']):g} at the start, "
                f"{float(e['post_score']):g} at the end ({gain})"
            )
        else:
            bits.append(f"change in the intervention's {what} {gain}")
    return bits


def _provision(rows: Sequence[Row]) -> Provision:
    items = []
    for e in rows:
        name = str(e["intervention_name"] or e["intervention_code"])
        bits = [f"{name} from {day_text(e['start_date'])}"]
        bits += _delivery_and_scores(e)
        if e["ratio_gain"] is not None:
            bits.append(f"ratio gain {number(float(e['ratio_gain']))}")
        if e["cost_per_pupil"] is not None:
            bits.append(f"about £{float(e['cost_per_pupil']):,.0f}")
        items.append(
            Enrolment(
                enrolment_id=str(e["enrolment_id"]),
                intervention_code=str(e["intervention_code"]),
                intervention_name=name,
                area_of_need=e["area_of_need"],
                need_matches=bool(e["need_matches"]),
                start_date=e["start_date"],
                end_date=e["end_date"],
                is_current=bool(e["is_current"]),
                sessions_planned=e["sessions_planned"],
                sessions_delivered=e["sessions_delivered"],
                delivery_rate=_num(e["delivery_rate"]),
                measure=e["measure"],
                pre_score=_num(e["pre_score"]),
                post_score=_num(e["post_score"]),
                score_gain=_num(e["score_gain"]),
                ratio_gain=_num(e["ratio_gain"]),
                cost_per_pupil=_num(e["cost_per_pupil"]),
                summary="; ".join(bits) + ".",
            )
        )
    current = sum(e.is_current for e in items)
    summary = (
        f"{count_phrase(current, 'intervention')} running now, "
        f"{count_phrase(len(items), 'enrolment')} in all."
        if items
        else "No interventions recorded."
    )
    return Provision(tuple(items), summary)


def _attendance(years: Sequence[Row], terms: Sequence[Row], weeks: Sequence[Row]) -> Attendance:
    weekly = tuple((w["week_start"], _num(w["attendance_rate"])) for w in weeks)
    if years:
        y = years[0]
        summary = (
            f"Attendance {percent(float(y['attendance_rate']))} in {y['academic_year']} "
            f"({y['present']} of {y['possible']} sessions; {y['unauthorised']} unauthorised"
        )
        # A year without session marks is the school's own summary: the page says so.
        if y.get("attendance_source") == "school_summary":
            summary += f", {y['attendance_source_text']}"
        summary += ")"
        if y["severe_absence"]:
            summary += ": severe absence (50% or more missed)."
        elif y["persistent_absence"]:
            summary += ": persistent absence (10% or more missed)."
        else:
            summary += "."
    else:
        summary = "No attendance recorded."
    return Attendance(tuple(years), tuple(terms), weekly, summary)


def _since_as_of(check_ins: Sequence[Row], as_of: date) -> str:
    """The check-ins recorded after the school's as-of date (the web app's captures this
    term), which the timeline lists but the weekly figures, up to that date, leave out."""
    later = [c for c in check_ins if c["observed_on"] > as_of]
    if not later:
        return ""
    n = count_phrase(len(later), "check-in")
    if len(later) == len(check_ins) == RECENT_RECORDS:  # the newest only: there may be more
        n = f"{RECENT_RECORDS} or more check-ins"
    newest = later[0]  # newest first
    when = "on" if len(later) == 1 else "the latest on"
    mood = f" (mood {newest['mood']} of 5)" if newest["mood"] is not None else ""
    return f" {n} since {day_text(as_of)}, {when} {day_text(newest['observed_on'])}{mood}."


def _wellbeing(
    weeks: Sequence[Row], check_ins: Sequence[Row] = (), as_of: date | None = None
) -> Wellbeing:
    mood = tuple((w["week_start"], _num(w["mood_mean"])) for w in weeks)
    engagement = tuple((w["week_start"], _num(w["engagement_mean"])) for w in weeks)
    rated = [m for _, m in mood if m is not None]
    if rated:
        recent = rated[-4:]
        summary = (
            f"Mood averaged {number(sum(rated) / len(rated))} on the 1 to 5 scale over "
            f"{count_phrase(len(rated), 'week')} with check-ins; "
            f"{number(sum(recent) / len(recent))} over the latest "
            f"{count_phrase(len(recent), 'week')}."
        )
    else:
        summary = "No mood check-ins recorded" + (f" up to {day_text(as_of)}." if as_of else ".")
    if as_of is not None:
        summary += _since_as_of(check_ins, as_of)
    return Wellbeing(mood, engagement, tuple(weeks), summary)


def _behaviour(incidents: Sequence[Row]) -> Behaviour:
    recent = tuple(reversed(incidents[-RECENT_INCIDENTS:]))
    after = tuple(behaviour_after_antecedent(incidents))
    if incidents:
        summary = (
            f"{count_phrase(len(incidents), 'incident')} recorded, the latest on "
            f"{day_text(incidents[-1]['occurred_on'])}."
        )
        if after:
            summary += " " + after[0].summary
    else:
        summary = "No behaviour incidents recorded."
    return Behaviour(recent, len(incidents), after, summary)


def _what_helps(effects: Sequence[StrategyEffect]) -> WhatHelps:
    judged = [e for e in effects if e.not_enough is None]
    if not effects:
        summary = "No strategy uses with a check-in before and after yet."
    elif not judged:
        summary = "Strategies have been used, but not yet often enough to judge any of them."
    else:
        standing = [e.strategy_name for e in judged if e.stands_out]
        summary = f"{count_phrase(len(judged), 'strategy', 'strategies')} with enough uses to judge"
        summary += (
            f"; standing out: {', '.join(standing)}." if standing else "; none stands out yet."
        )
    return WhatHelps(tuple(effects), summary)


def _harder(
    con: duckdb.DuckDBPyConnection,
    school: str,
    pupil_key: str,
    as_of: date,
    incidents: Sequence[Row],
    cache: SchoolAnalyticsCache,
    *,
    allowed: bool = True,
) -> Harder:
    mine = [
        h
        for h in (cache.standing_situations(con, school) if allowed else ())
        if h.pupil_key == pupil_key
    ]
    mine.sort(key=lambda h: (h.dimension, h.value))
    # The school's timetabled day and latest school days change only with a build.
    slots: list[tuple[int, str]] = cache.per_build(
        con,
        "school_time_slots",
        school,
        lambda: [
            (int(r["time_slot"]), str(r["label"]))
            for r in queries.rows(con, "school_time_slots", school_urn=school)
        ],
    )
    days: list[date] = cache.per_build(
        con,
        "school_days",
        (school, as_of),
        lambda: sorted(
            r["date_day"]
            for r in queries.rows(
                con, "school_days", school_urn=school, as_of=as_of, days=SCATTERPLOT_DAYS
            )
        ),
    )
    year = incidents[-1]["academic_year"] if incidents else None
    grid = scatterplot(
        incidents,
        days=days,
        slots=slots,
        harder=[h for h in mine if year is None or h.academic_year == year],
    )
    if mine:
        # The list under it says each one in full; the sentence only counts them (it
        # used to repeat the first three, so the page said everything twice).
        verb = "stands" if len(mine) == 1 else "stand"
        summary = (
            f"{count_phrase(len(mine), 'situation')} {verb} out as harder than the rest "
            "of this child's day:"
        )
    else:
        summary = "No time, place or activity stands out as harder than the rest of the day."
    return Harder(tuple(mine), grid, summary)


def _recorded_days(
    check_ins: Sequence[Row], weeks: Sequence[Row], as_of: date, area: Callable[[str], bool]
) -> dict[str, list[date]]:
    """The days each early-sign measure has data, so a measure with none in the window
    says so. Only the measures the user may see and whose rows were read: the check-ins
    are the newest ``RECENT_RECORDS``, so a full list may stop short of the window and
    proves nothing about it."""
    out: dict[str, list[date]] = {}
    if area("wellbeing") and len(check_ins) < RECENT_RECORDS:
        for name in ("mood", "engagement"):
            out[name] = [r["observed_on"] for r in check_ins if r[name] is not None]
    if area("attendance"):
        # A week's marks count from its last school day up to as_of (a week starting
        # before the window may end inside it).
        out["attendance"] = [
            min(r["week_start"] + timedelta(days=4), as_of) for r in weeks if r["possible"]
        ]
    return out


def _early_signs(
    pupil_key: str,
    as_of: date,
    alerts: Sequence[Alert],
    incidents: Sequence[Row],
    assessments: Sequence[Row],
    attended: Sequence[Row],
    *,
    areas: PupilScope | None = None,
    recorded: Mapping[str, Sequence[date]] | None = None,
) -> EarlySigns:
    view = indicator_view(
        pupil_key,
        as_of,
        alerts,
        recorded=recorded,
        behaviour=behaviour_indicator(
            [i["occurred_on"] for i in incidents], [r["session_date"] for r in attended], as_of
        ),
        attainment=attainment_indicator(assessments, as_of),
    )
    if areas is not None:
        # Only the measures whose area the user may see: "not fired" about attendance is
        # attendance information too.
        kept = tuple(i for i in view.indicators if areas.shows_area(MEASURE_AREA.get(i.name, "")))
        view = replace(view, indicators=kept)
    return EarlySigns(view, tuple(alerts), view.summary)


def _assessments(rows: Sequence[Row]) -> Assessments:
    newest = tuple(reversed(rows))
    if not rows:
        return Assessments((), "No assessment results recorded.")
    subjects = sorted({str(r["subject"]) for r in rows})
    return Assessments(
        newest,
        f"{count_phrase(len(rows), 'result')} in {', '.join(subjects)}; the latest on "
        f"{day_text(rows[-1]['assessed_on'])}.",
    )


# The pupil page's sections, by the id the template gives each one.
PAGE_SECTIONS: dict[str, Section] = {
    "identity": Section.PUPIL_IDENTITY,
    "status": Section.PUPIL_STATUS,
    "note": Section.PUPIL_NOTE,
    "signs": Section.PUPIL_EARLY_SIGNS,
    "helps": Section.PUPIL_WHAT_HELPS,
    "harder": Section.PUPIL_HARDER,
    "wellbeing": Section.PUPIL_WELLBEING,
    "attendance": Section.PUPIL_ATTENDANCE,
    "behaviour": Section.PUPIL_BEHAVIOUR,
    "provision": Section.PUPIL_PROVISION,
    "plans": Section.PUPIL_PLANS,
    "assessments": Section.PUPIL_ASSESSMENTS,
    "timeline": Section.PUPIL_TIMELINE,
}


def shown_sections(scope: PupilScope, picture: PupilPicture) -> dict[str, bool]:
    """Which sections of the pupil page to render: those the policy allows (early signs
    only when at least one of its measures is in an allowed area)."""
    show = {name: scope.shows(section) for name, section in PAGE_SECTIONS.items()}
    show["signs"] = show["signs"] and bool(picture.early_signs.view.indicators)
    return show


def pupil_charts(picture: PupilPicture) -> dict[str, Chart]:
    """The pupil page's charts, each with its data table (see :mod:`empowered.charts`)."""
    charts = {
        "attendance": line_chart(
            "Attendance by school week",
            {
                "attendance %": [
                    (d, None if v is None else 100 * v) for d, v in picture.attendance.weekly
                ]
            },
            y_label="% of sessions attended",
            y_range=(0.0, 100.0),
        ),
        "wellbeing": line_chart(
            "Mood and engagement by school week",
            {"mood": picture.wellbeing.mood, "engagement": picture.wellbeing.engagement},
            y_label="weekly average, 1 to 5",
            y_range=(1.0, 5.0),
            markers=picture.changes.markers(),
        ),
        "scatterplot": scatterplot_grid("When incidents happened", picture.harder.grid),
    }
    gains = [
        (e.intervention_name, e.score_gain)
        for e in picture.provision.enrolments
        if e.score_gain is not None
    ]
    if gains:
        charts["provision"] = bar_chart(
            "Score change in each intervention", gains, value_label="points gained"
        )
    return charts
