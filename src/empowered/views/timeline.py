"""One dated list of what happened to one pupil, across every section of the pupil page.

Events are built from the pupil's own rows only (never a school's or another child's) and
sorted newest first, with a fixed order of kinds on the same day so the list is stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from empowered.access.sections import MEASURE_AREA, TIMELINE_AREA
from empowered.action_words import (
    KIND_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    owner_role_words,
)
from empowered.analytics.early_signs import Alert
from empowered.analytics.wording import day_text
from empowered.views.provenance import Provenance

KINDS = (
    "alert",
    "exclusion",
    "incident",
    "strategy",
    "check_in",
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
# Check-ins and strategy uses happen several times a day: only the latest few are listed.
RECENT_RECORDS = 10
# Said of a capture that landed in raw but is not yet through staging into the marts.
PENDING = "just captured, not yet in the charts"
# Kinds staff record as they happen (check-ins, strategies, incidents): listed up to the
# day they were recorded, even after the school's as-of date (which follows the latest
# attendance import), so what was logged today is seen today.
# An action agreed in the app is recorded as it happens too.
RECORDED_KINDS = frozenset({"incident", "strategy", "check_in", "action"})


@dataclass(frozen=True)
class TimelineEvent:
    day: date
    kind: str  # one of KINDS
    text: str
    pending: bool = False  # captured moments ago, not yet rebuilt into the marts
    area: str = ""  # the mart area it comes from (access.sections): pages filter on it
    # Where it came from (views.provenance): set for kinds whose rows carry their batch.
    provenance: Provenance | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.area:
            object.__setattr__(self, "area", TIMELINE_AREA.get(self.kind, ""))


def _words(code: Any) -> str:
    return str(code).replace("_", " ") if code else ""


def _at(minute: Any) -> str:
    return f" at {int(minute) // 60:02d}:{int(minute) % 60:02d}" if minute is not None else ""


def _context(r: dict[str, Any]) -> str:
    where = [_words(r.get(k)) for k in ("activity", "setting") if r.get(k)]
    return f" ({', '.join(where)})" if where else ""


def _check_in_text(r: dict[str, Any], labels: dict[str, dict[str, str]]) -> str:
    parts = []
    for what, key in (("mood", "mood"), ("engagement", "engagement")):
        value = r.get(key)
        if value is not None:
            label = labels.get(key, {}).get(str(value))
            parts.append(f"{what} {value}" + (f" ({label.lower()})" if label else ""))
    return "Check-in: " + (", ".join(parts) or "no scores") + _context(r)


def _strategy_text(r: dict[str, Any], labels: dict[str, dict[str, str]]) -> str:
    code = r.get("strategy_code")
    name = r.get("strategy_name") or labels.get("strategy", {}).get(str(code)) or _words(code)
    outcome = labels.get("outcome", {}).get(str(r.get("outcome")))
    went = {"helped": "it helped", "partly": "it partly helped", "not_helped": "it did not help"}
    how = went.get(str(r.get("outcome")), outcome or "how it went not recorded")
    return f"Strategy used: {name}, {how}" + _context(r)


def _incident_text(i: dict[str, Any]) -> str:
    what = _words(i["behaviour"])
    before = f" after {_words(i['antecedent'])}" if i.get("antecedent") else ""
    label = i.get("activity_label") or _words(i.get("activity"))
    where = f" ({label})" if i.get("activity") else ""
    return f"Incident: {what}{before}{where}"


def _action_what(a: dict[str, Any]) -> str:
    kind = KIND_LABELS.get(str(a.get("kind") or ""))
    text = str(a.get("description") or "").strip() or "no description recorded"
    return f"{kind}: {text}" if kind else text


def _action_text(a: dict[str, Any], *, today: date) -> str:
    """What was agreed, who owns it, when it is due and where it stands (issue 13: an
    imported action showed only as "Action agreed (review)")."""
    source = SOURCE_LABELS.get(str(a.get("source") or ""), "at a meeting")
    parts = [f"Action agreed {source[0].lower()}{source[1:]}: {_action_what(a)}"]
    owner = a.get("owner_name") or owner_role_words(a.get("owner_role"))
    details = [f"owner: {owner}"] if owner else []
    due = a.get("due_date")
    if isinstance(due, date):
        details.append(f"due {day_text(due)}")
    status = str(a.get("status") or ("done" if a.get("completed_on") else "open"))
    if status == "open":
        details.append("open, overdue" if isinstance(due, date) and due < today else "open")
    else:
        details.append(STATUS_LABELS.get(status, status).lower())
    return parts[0] + " (" + "; ".join(details) + ")"


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
    check_ins: Sequence[dict[str, Any]] = (),
    strategy_uses: Sequence[dict[str, Any]] = (),
    pending: Sequence[dict[str, Any]] = (),
    recorded_until: date | None = None,
    labels: dict[str, dict[str, str]] | None = None,
) -> list[TimelineEvent]:
    """Every dated event up to ``as_of``, newest first.

    Recorded kinds (check-ins, strategy uses, incidents) go up to ``recorded_until``
    (default ``as_of``); ``pending`` are captures not yet rebuilt into the marts, listed
    with :data:`PENDING`. ``labels`` gives the words for codes (``mood``, ``engagement``,
    ``strategy``, ``outcome``: code -> label)."""
    events: list[TimelineEvent] = []
    until = max(as_of, recorded_until or as_of)
    words = labels or {}

    def add(
        day: Any,
        kind: str,
        text: str,
        pending: bool = False,
        area: str = "",
        provenance: Provenance | None = None,
    ) -> None:
        bound = until if kind in RECORDED_KINDS else as_of
        if isinstance(day, date) and day <= bound:
            events.append(TimelineEvent(day, kind, text, pending, area, provenance))

    for s in sen_history:
        need = s.get("primary_need_name") or s.get("primary_need")
        status = {"K": "SEN support", "E": "EHC plan", "N": "no SEN"}.get(
            str(s["sen_provision"]), str(s["sen_provision"])
        )
        add(s["valid_from"], "sen_status", f"SEN status: {status}" + (f" ({need})" if need else ""))
    for p in plans:
        kind = "EHC plan" if p["plan_type"] == "ehc_plan" else "Support plan"
        add(p["start_date"], "plan", f"{kind} started", provenance=p.get("provenance"))
        if p.get("end_date"):
            add(p["end_date"], "plan", f"{kind} ended")
    for r in reviews:
        add(
            r["review_date"],
            "review",
            f"Plan outcome reviewed: progress {_words(r['progress'])}",
            provenance=r.get("provenance"),
        )
    for e in enrolments:
        name = e["intervention_name"] or e["intervention_code"]
        add(e["start_date"], "provision", f"Started {name}", provenance=e.get("provenance"))
        if e.get("end_date"):
            text = f"Finished {name}"
            if e.get("score_gain") is not None:
                # The intervention's own entry and exit scores, not an assessment result.
                text += f" (its own score {float(e['score_gain']):+g} from start to end)"
            add(e["end_date"], "provision", text)
    for i in incidents:
        add(i["occurred_on"], "incident", _incident_text(i), provenance=i.get("provenance"))
    for c in check_ins[:RECENT_RECORDS]:
        text = _check_in_text(c, words) + _at(c.get("observed_minute"))
        add(c["observed_on"], "check_in", text, provenance=c.get("provenance"))
    for u in strategy_uses[:RECENT_RECORDS]:
        text = _strategy_text(u, words) + _at(u.get("used_minute"))
        add(u["used_on"], "strategy", text, provenance=u.get("provenance"))
    for c in pending:
        kind = str(c["kind"])
        if kind == "check_in":
            text = _check_in_text(c, words)
        elif kind == "strategy":
            text = _strategy_text(c, words)
        else:
            text = _incident_text(c)
        at = f" at {c['time_text']}" if c.get("time_text") else ""
        add(c["day"], kind, f"{text}{at}: {PENDING}", pending=True)
    for x in exclusions:
        text = _words(x["category"]).capitalize()
        add(x["start_date"], "exclusion", text, provenance=x.get("provenance"))
    for a in actions:
        add(a["raised_on"], "action", _action_text(a, today=until), provenance=a.get("provenance"))
        closed_on = a.get("completed_on")
        if a.get("status") == "cancelled" and a.get("status_at") is not None:
            closed_on = a["status_at"].date()
        if isinstance(closed_on, date):
            what = "cancelled" if a.get("status") == "cancelled" else "done"
            add(closed_on, "action", f"Action {what}: {_action_what(a)}")
    for r in assessments:
        text = f"{r['subject']} {_words(r['assessment'])}: {float(r['value']):g}"
        if r.get("change_since_previous") is not None:
            text += f" ({float(r['change_since_previous']):+g} since the previous)"
        add(r["assessed_on"], "assessment", text, provenance=r.get("provenance"))
    for w in attendance_weeks:
        rate = w.get("attendance_rate")
        if rate is not None and float(rate) < LOW_WEEK_ATTENDANCE:
            add(
                w["week_start"],
                "attendance",
                f"Attendance {_pct(rate)} in the week ({w['present']} of {w['possible']} sessions)",
            )
    for al in alerts:
        # An alert is data of its measure's area (an attendance alert is attendance).
        area = MEASURE_AREA.get(al.indicator, "wellbeing")
        add(al.started_on, "alert", f"Early sign: {al.indicator} ({al.rule})", area=area)
    return sort_events(events)


def sort_events(events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """Newest first; on one day, what was just captured first, then in the fixed order of
    :data:`KINDS`."""
    return sorted(
        events,
        key=lambda e: (-e.day.toordinal(), not e.pending, _ORDER.get(e.kind, 99), e.text),
    )
