"""One dated list of what happened to one pupil, across every section of the pupil page.

Events are built from the pupil's own rows only (never a school's or another child's) and
sorted newest first, with a fixed order of kinds on the same day so the list is stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from empowered.analytics.early_signs import Alert

KINDS = (
    "alert",
    "exclusion",
    "incident",
    "plan",
    "review",
    "action",
    "provision",
    "assessment",
    "sen_status",
    "attendance",
)
_ORDER = {k: i for i, k in enumerate(KINDS)}
LOW_WEEK_ATTENDANCE = 0.8  # a week under this is worth a line on the timeline


@dataclass(frozen=True)
class TimelineEvent:
    day: date
    kind: str  # one of KINDS
    text: str


def _words(code: Any) -> str:
    return str(code).replace("_", " ") if code else ""


def _pct(x: Any) -> str:
    return f"{100 * float(x):.0f}%"


def build_timeline(
    *,
    as_of: date,
    sen_history: Sequence[dict[str, Any]] = (),
    plans: Sequence[dict[str, Any]] = (),
    reviews: Sequence[dict[str, Any]] = (),
    enrolments: Sequence[dict[str, Any]] = (),
    incidents: Sequence[dict[str, Any]] = (),
    exclusions: Sequence[dict[str, Any]] = (),
    actions: Sequence[dict[str, Any]] = (),
    assessments: Sequence[dict[str, Any]] = (),
    attendance_weeks: Sequence[dict[str, Any]] = (),
    alerts: Sequence[Alert] = (),
) -> list[TimelineEvent]:
    """Every dated event up to ``as_of``, newest first."""
    events: list[TimelineEvent] = []

    def add(day: Any, kind: str, text: str) -> None:
        if isinstance(day, date) and day <= as_of:
            events.append(TimelineEvent(day, kind, text))

    for s in sen_history:
        need = s.get("primary_need_name") or s.get("primary_need")
        status = {"K": "SEN support", "E": "EHC plan", "N": "no SEN"}.get(
            str(s["sen_provision"]), str(s["sen_provision"])
        )
        add(s["valid_from"], "sen_status", f"SEN status: {status}" + (f" ({need})" if need else ""))
    for p in plans:
        kind = "EHC plan" if p["plan_type"] == "ehc_plan" else "Support plan"
        add(p["start_date"], "plan", f"{kind} started")
        if p.get("end_date"):
            add(p["end_date"], "plan", f"{kind} ended")
    for r in reviews:
        add(r["review_date"], "review", f"Plan outcome reviewed: progress {_words(r['progress'])}")
    for e in enrolments:
        name = e["intervention_name"] or e["intervention_code"]
        add(e["start_date"], "provision", f"Started {name}")
        if e.get("end_date"):
            text = f"Finished {name}"
            if e.get("score_gain") is not None:
                text += f" (score change {float(e['score_gain']):+g})"
            add(e["end_date"], "provision", text)
    for i in incidents:
        what = _words(i["behaviour"])
        before = f" after {_words(i['antecedent'])}" if i.get("antecedent") else ""
        where = f" ({i['activity_label'] or _words(i['activity'])})" if i.get("activity") else ""
        add(i["occurred_on"], "incident", f"Incident: {what}{before}{where}")
    for x in exclusions:
        add(x["start_date"], "exclusion", _words(x["category"]).capitalize())
    for a in actions:
        add(a["raised_on"], "action", f"Action agreed ({_words(a['source']) or 'meeting'})")
        if a.get("completed_on"):
            add(a["completed_on"], "action", "Action completed")
    for r in assessments:
        text = f"{r['subject']} {_words(r['assessment'])}: {float(r['value']):g}"
        if r.get("change_since_previous") is not None:
            text += f" ({float(r['change_since_previous']):+g} since the previous)"
        add(r["assessed_on"], "assessment", text)
    for w in attendance_weeks:
        rate = w.get("attendance_rate")
        if rate is not None and float(rate) < LOW_WEEK_ATTENDANCE:
            add(
                w["week_start"],
                "attendance",
                f"Attendance {_pct(rate)} in the week ({w['present']} of {w['possible']} sessions)",
            )
    for al in alerts:
        add(al.started_on, "alert", f"Early sign: {al.indicator} ({al.rule})")
    return sort_events(events)


def sort_events(events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """Newest first; on one day, in the fixed order of :data:`KINDS`."""
    return sorted(events, key=lambda e: (-e.day.toordinal(), _ORDER.get(e.kind, 99), e.text))
