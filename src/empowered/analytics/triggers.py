"""The review queue: trigger rules that fired, each with the evidence behind it.

Rules live in a YAML file the school can edit (``warehouse/trigger_rules.yml``, loaded into
``meta.trigger_rules`` before each build). Rules over attendance and suspensions are
evaluated in SQL by ``marts.safeguarding_trigger``; ``combined`` rules join those with the
early-sign indicators (which are statistical, so they live here, in Python) and fire when
every component was active within the same window. A queue item is a prompt for a
conversation with its evidence, never a judgement about a child.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from empowered.analytics import queries
from empowered.analytics.aggregates import multi_pupil
from empowered.analytics.disclosure import DisclosedTable, suppress
from empowered.analytics.early_signs import Alert, load_alerts
from empowered.analytics.wording import count_phrase, day_text

COMBINED_WINDOW_DAYS = 28
# Early-sign indicators a combined rule may name, by the name used in the YAML.
EARLY_SIGN_COMPONENTS = {
    "mood_decline": "mood",
    "engagement_decline": "engagement",
    "attendance_decline": "attendance",
}


@dataclass(frozen=True)
class QueueItem:
    pupil_key: str
    school_urn: str
    rule_id: str
    label: str
    fired_on: date
    last_fired_on: date
    is_active: bool
    evidence: tuple[str, ...]
    summary: str


def _value_text(kind: str, value: Any) -> str:
    if value is None:
        return "no value"
    if kind == "absence_rate":
        return f"{100 * float(value):.0f}% of sessions missed"
    if kind == "suspensions":
        return f"{int(value)} suspensions"
    return f"{int(value)} unauthorised sessions"


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return f"{{{key}}}"


def _first_window_sentence(r: dict[str, Any]) -> str:
    """The school's own wording for the rule (from the rules file), filled with the figures
    of the first window in which it fired; a plain default when it has none."""
    kind = str(r["kind"])
    share = kind == "absence_rate"
    value, threshold = r["value_at_first"], float(r["threshold"])
    figures = {
        "value": f"{100 * float(value):.0f}%" if share else f"{float(value):g}",
        "threshold": f"{100 * threshold:.0f}%" if share else f"{threshold:g}",
        "window_start": day_text(r["window_start"]) if r.get("window_start") else "",
        "window_end": day_text(r["window_end"]) if r.get("window_end") else "",
    }
    # The school weeks the window held (fewer than the rule's early in the year).
    weeks = r.get("window_weeks") or r.get("window_school_weeks")
    if weeks is not None:
        figures["window_school_weeks"] = str(int(weeks))
    wording = r.get("wording")
    if wording:
        text = str(wording).format_map(_Blank(figures))
        return text[0].upper() + text[1:] + "."
    window = ""
    if figures["window_start"] and figures["window_end"]:
        window = f" between {figures['window_start']} and {figures['window_end']}"
    return f"{_value_text(kind, value)}{window} (the rule's threshold is {figures['threshold']})."


def fired_rule_items(rows: Sequence[dict[str, Any]]) -> list[QueueItem]:
    """Queue items for the rules ``marts.safeguarding_trigger`` found fired."""
    items = []
    for r in rows:
        kind = str(r["kind"])
        # A pupil with no session marks that year is judged on the summaries the school
        # sent (marts.safeguarding_trigger): the evidence says so, and counts summaries.
        from_summary = r.get("evidence_source") == "school_summary"
        fired_in = (
            f"reached in {count_phrase(int(r['weeks_fired']), 'summary', 'summaries')} "
            "the school sent (there are no session marks for this year)"
            if from_summary
            else f"reached in {count_phrase(int(r['weeks_fired']), 'school week')}"
        )
        evidence = (
            _first_window_sentence(r),
            f"Highest: {_value_text(kind, r['peak_value'])}; latest: "
            f"{_value_text(kind, r['latest_value'])}; {fired_in}.",
        )
        state = "still active" if r["is_active"] else "no longer active"
        items.append(
            QueueItem(
                str(r["pupil_key"]),
                str(r["school_urn"]),
                str(r["rule_id"]),
                str(r["rule_label"]),
                r["first_fired_on"],
                r["last_fired_on"],
                bool(r["is_active"]),
                evidence,
                f"{r['rule_label']}: first reached on {day_text(r['first_fired_on'])} "
                f"({state}). Worth a conversation.",
            )
        )
    return items


def combined_items(
    rules: Sequence[dict[str, Any]],
    fired: Sequence[QueueItem],
    alerts: Sequence[Alert],
    *,
    window_days: int = COMBINED_WINDOW_DAYS,
) -> list[QueueItem]:
    """Fire a combined rule when all its components were active within ``window_days``.

    A component is another rule's id (active from its first firing) or an early-sign
    indicator (active while its alert episode lasts). The item fires on the day the last
    component became active.
    """
    spans: dict[tuple[str, str], list[tuple[date, date, str]]] = defaultdict(list)
    for item in fired:
        end = date.max if item.is_active else item.last_fired_on
        spans[(item.pupil_key, item.rule_id)].append((item.fired_on, end, item.summary))
    for a in alerts:
        spans[(a.pupil_key, a.indicator)].append((a.started_on, a.last_signal_on, a.summary))
    pupils = {(i.pupil_key, i.school_urn) for i in fired} | {
        (a.pupil_key, a.school_urn) for a in alerts
    }
    items = []
    for rule in rules:
        if rule["kind"] != "combined" or not rule.get("enabled", True):
            continue
        parts = [p.strip() for p in str(rule["components"] or "").split(",") if p.strip()]
        names = [EARLY_SIGN_COMPONENTS.get(p, p) for p in parts]
        if not names:
            continue
        for pupil, school in sorted(pupils):
            found = _all_within(
                [spans.get((pupil, n), []) for n in names], timedelta(days=window_days)
            )
            if found is None:
                continue
            fired_on, evidence = found
            items.append(
                QueueItem(
                    pupil,
                    school,
                    str(rule["rule_id"]),
                    str(rule["label"]),
                    fired_on,
                    fired_on,
                    True,
                    tuple(evidence),
                    f"{rule['label']}: {'both' if len(names) == 2 else f'all {len(names)}'} "
                    f"signs seen together by "
                    f"{day_text(fired_on)}. Worth a conversation.",
                )
            )
    return items


def _all_within(
    component_spans: list[list[tuple[date, date, str]]], window: timedelta
) -> tuple[date, list[str]] | None:
    """The earliest day on which every component had been active within ``window``."""
    if any(not spans for spans in component_spans):
        return None
    candidates = sorted({start for spans in component_spans for start, _, _ in spans})
    for day in candidates:
        chosen = []
        for spans in component_spans:
            live = [s for s in spans if s[0] <= day and day - window <= s[1]]
            if not live:
                break
            chosen.append(live[-1][2])
        else:
            return day, chosen
    return None


def review_queue(
    con: duckdb.DuckDBPyConnection,
    *,
    school_urn: str | None = None,
    alerts: Sequence[Alert] | None = None,
) -> list[QueueItem]:
    """Everything waiting for review in a school, newest first."""
    fired = fired_rule_items(
        queries.rows(con, "safeguarding_triggers", school_urn=school_urn, pupil_key=None)
    )
    if alerts is None:
        alerts = load_alerts(con, school_urn=school_urn)
    rules = queries.rows(con, "trigger_rules")
    combined = combined_items(rules, fired, alerts)
    return sorted(fired + combined, key=lambda i: (i.fired_on, i.pupil_key), reverse=True)


@dataclass(frozen=True)
class QueueOverview:
    table: DisclosedTable  # rules x children in the queue
    summary: str


@multi_pupil
def queue_overview(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> QueueOverview:
    """How many children each rule has brought to the review queue (for trust leads)."""
    items = review_queue(con, school_urn=school_urn)
    children: dict[str, set[str]] = defaultdict(set)
    for i in items:
        children[i.label].add(i.pupil_key)
    labels = sorted(children)
    table = suppress(
        [len(children[lbl]) for lbl in labels] or [0],
        row_labels=tuple(labels) or ("no rule has fired",),
        column_labels=("children",),
        unit="children",
    )
    total = len({i.pupil_key for i in items})
    summary = (
        "Fewer than 5 children are in the review queue."
        if 0 < total < 5
        else f"{total} children are in the review queue, across {len(labels)} rules."
    )
    return QueueOverview(table, summary)
