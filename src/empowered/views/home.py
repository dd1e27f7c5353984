"""The home page: what needs attention for this user, most urgent first.

Four sources, each carrying its evidence: the review queue from the school's trigger
rules, early-sign alerts still active, plan reviews overdue or due soon, and needs on the
register with no matching provision. Identified staff get one item per pupil (and per
school for the register question); a trust analyst (``identified`` False) gets one item
per school whose counts went through suppression, and no pupil keys at all. A teacher's or
assistant's own pupils with SEN are items too (their plan is what helps), and a trigger no
longer active has resolved itself (it leaves, its history stays on the triggers page). The
page groups the items into one card per child: :mod:`empowered.views.home_children`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any, overload

import duckdb

from empowered.access.sections import MEASURE_AREA, Section
from empowered.analytics.disclosure import DisclosedTable, suppress
from empowered.analytics.early_signs import Alert
from empowered.analytics.triggers import QueueItem
from empowered.analytics.wording import count_phrase, day_text
from empowered.views import PupilScope, queries
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache
from empowered.views.triggers import (
    ReviewEvent,
    TriggerCard,
    id_of,
    review_events_by_school,
    status_of,
)

ACTIVE_WINDOW_DAYS = 28  # an early sign seen within this many days still needs a look
REVIEW_DUE_SOON_DAYS = 28
# Lower is more urgent.
URGENCY = {
    "trigger": 1,
    "plan_review_overdue": 2,
    "early_sign": 3,
    "plan_review_due": 4,
    "needs_without_provision": 5,
    # An EHC plan's annual review step (advice, papers, report): overdue ranks with an
    # overdue review, coming due with a review due soon.
    "ehc_step_overdue": 2,
    "ehc_step_due": 4,
    "school_summary": 0,  # a trust analyst's per-school counts lead the page
    # A teacher's or assistant's own pupil with SEN: nothing is wrong, but they should know
    # the child's needs and plan (SEN Code of Practice 6.48); the per-role order on the
    # home page (views.home_children) decides where these come.
    "sen_pupil": 6,
}


SECTION_OF_KIND = {
    "trigger": Section.HOME_TRIGGERS,
    "plan_review_overdue": Section.HOME_PLAN_REVIEWS,
    "early_sign": Section.HOME_EARLY_SIGNS,
    "plan_review_due": Section.HOME_PLAN_REVIEWS,
    "needs_without_provision": Section.HOME_NEEDS_WITHOUT_PROVISION,
    "school_summary": Section.HOME_SCHOOL_SUMMARY,
    "ehc_step_overdue": Section.HOME_EHC_REVIEW_STEPS,
    "ehc_step_due": Section.HOME_EHC_REVIEW_STEPS,
    "sen_pupil": Section.HOME_PUPIL_STATUS,
}


@dataclass(frozen=True)
class AttentionItem:
    kind: str  # a key of URGENCY
    pupil_key: str | None  # None for school-level items
    school_urn: str
    title: str
    evidence: tuple[str, ...]
    link: tuple[str, str]  # ("pupil", pupil_key), ("register", school_urn) ...
    day: date
    table: DisclosedTable | None = None  # school-level counts, suppressed
    area: str | None = None  # an early sign's measure area (access.sections.MEASURE_AREA)
    # The first day the item's condition held (a trigger's first firing, a review's first
    # overdue day): what "New since your last visit" compares with.
    appeared_on: date | None = None
    status: str | None = None  # a trigger's review status (views.triggers.STATUS_LABELS)
    ehc: bool = False  # a plan review or step of an EHC plan (not a support plan)

    @property
    def urgency(self) -> int:
        return URGENCY[self.kind]

    @property
    def section(self) -> str:
        """The page section this item belongs to (marked on the page for the tests)."""
        return str(SECTION_OF_KIND[self.kind])


def attention(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    as_of: date | None = None,
    cache: SchoolAnalyticsCache | None = None,
) -> Sequence[AttentionItem]:
    """Everything needing attention in the scope, sorted by urgency, then newest first.

    A trust-wide list runs to ten thousand items of which a page shows fifty: items are
    sorted by their key and each is written out (its evidence worded) only when read."""
    cache = DEFAULT_CACHE if cache is None else cache
    items: list[_Entry] = []
    # Each kind of item is a section of the page: what the policy does not let this user
    # see is not read at all (a teacher gets no trigger cards, a visitor limited to
    # wellbeing no attendance alerts). An analyst's per-school summary counts children,
    # never says which, so it is its own section.
    summary = not scope.identified
    show_triggers = scope.shows(Section.HOME_TRIGGERS) or (
        summary and scope.shows(Section.HOME_SCHOOL_SUMMARY)
    )
    show_signs = scope.shows(Section.HOME_EARLY_SIGNS) or (
        summary and scope.shows(Section.HOME_SCHOOL_SUMMARY)
    )
    show_reviews = scope.shows(Section.HOME_PLAN_REVIEWS) or (
        summary and scope.shows(Section.HOME_SCHOOL_SUMMARY)
    )
    reviews = (
        queries.rows(
            con, "attention_reviews", scope=scope, as_of=as_of, within_days=REVIEW_DUE_SOON_DAYS
        )
        if show_reviews
        else []
    )
    by_school: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in reviews:
        by_school[str(r["school_urn"])].append(r)
    # An EHC plan's annual review steps, from six weeks before each falls due: the SENCo's.
    steps_by_school: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if scope.identified and scope.shows(Section.HOME_EHC_REVIEW_STEPS):
        steps = queries.rows(con, "attention_ehc_steps", scope=scope, as_of=as_of)
        names = _names(con, scope, {str(r["pupil_key"]) for r in steps})
        for r in steps:
            steps_by_school[str(r["school_urn"])].append(r | {"name": names.get(r["pupil_key"])})
    # A teacher's or assistant's own pupils with SEN (a named list of pupils, not a school).
    own_sen: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if scope.identified and scope.pupils is not None and scope.shows(Section.HOME_PUPIL_STATUS):
        for r in queries.rows(con, "home_own_sen_pupils", scope=scope):
            own_sen[str(r["school_urn"])].append(r)
    # Every school's review events in one question (the table is small, the schools many).
    all_reviewed = review_events_by_school(con, scope=scope) if show_triggers else {}
    for school in queries.rows(con, "scope_schools", scope=scope):
        urn = str(school["school_urn"])
        day = as_of or school["as_of_date"] or date.today()
        # A trigger the safeguarding lead has decided on has left the open queue (the
        # triggers page keeps it under "decided"), and so has one whose condition no longer
        # holds (_candidates: "resolved", its review history kept on the triggers page);
        # the others show how far their review got.
        reviewed = all_reviewed.get(urn, {})
        # What is active on the school's day is the same for every user: worked out once
        # per change of the school's results (several thousand items for a trust).
        found = cache.derived(con, "home", urn, day, partial(_candidates, cache, con, urn, day))
        everyone = scope.pupils is None and scope.admits_school(urn)
        queue = [
            (key, q, trigger, item)
            for key, q, trigger, item in (found.triggers if show_triggers else ())
            if (everyone or scope.admits(q.pupil_key, urn)) and not decided(trigger, reviewed)
        ]
        all_areas = summary or scope.areas is None
        alerts = [
            (key, a, item)
            for key, a, area, item in (found.alerts if show_signs else ())
            if (everyone or scope.admits(a.pupil_key, urn))
            and (all_areas or scope.shows_area(area))
        ]
        if scope.identified:
            items += _pupil_items(queue, alerts, by_school[urn], urn, reviewed)
            items += [
                (
                    _key(_step_kind(r, day), r["due_on"], urn, str(r["pupil_key"])),
                    _ehc_step_item,
                    (r, urn, day),
                )
                for r in steps_by_school[urn]
            ]
        elif scope.shows(Section.HOME_SCHOOL_SUMMARY):
            summary_item = _school_summary(
                urn,
                str(school["school_name"]),
                day,
                [q for _, q, _, _ in queue],
                [a for _, a, _ in alerts],
                by_school[urn],
            )
            items.append(_ready(summary_item))
        if scope.identified and scope.pupils is not None:
            items += [
                (_key("sen_pupil", r["as_of_date"], urn, str(r["pupil_key"])), _sen_item, (r, urn))
                for r in own_sen.get(urn, ())
            ]
        if scope.pupils is None and scope.shows(Section.HOME_NEEDS_WITHOUT_PROVISION):
            items += [_ready(i) for i in _needs_without_provision(con, urn, day, cache)]
    return _Sorted(items)


# An item's sort key (urgency, newest first, school, pupil), and the function and
# arguments that write it out (not a closure: ten thousand of those cost tens of ms).
_Key = tuple[int, int, str, str]
_Entry = tuple[_Key, Callable[..., AttentionItem], tuple[Any, ...]]


def _key(kind: str, day: date, urn: str, pupil_key: str | None) -> _Key:
    return (URGENCY[kind], -day.toordinal(), urn, pupil_key or "")


def _ready(item: AttentionItem) -> _Entry:
    return _key(item.kind, item.day, item.school_urn, item.pupil_key), _itself, (item,)


def _itself(item: AttentionItem) -> AttentionItem:
    return item


class _Sorted(Sequence[AttentionItem]):
    """Items in key order, each built the first time it is read (then kept)."""

    def __init__(self, entries: list[_Entry]) -> None:
        # A stable sort: items with equal keys keep the order they were listed in.
        self._entries = sorted(entries, key=lambda e: e[0])
        self._built: dict[int, AttentionItem] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _at(self, index: int) -> AttentionItem:
        if index not in self._built:
            _, build, args = self._entries[index]
            self._built[index] = build(*args)
        return self._built[index]

    @overload
    def __getitem__(self, index: int) -> AttentionItem: ...
    @overload
    def __getitem__(self, index: slice) -> list[AttentionItem]: ...
    def __getitem__(self, index: int | slice) -> AttentionItem | list[AttentionItem]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._at(index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def still_open(q: QueueItem, day: date) -> bool:
    """A trigger fired by the school's day and still active. Resolved (no longer active)
    triggers leave home as they leave the DSL's open queue (views.triggers.TriggerCard
    .status); nothing is deleted."""
    return q.fired_on <= day and q.is_active


def decided(trigger: str, reviewed: dict[str, tuple[ReviewEvent, ...]]) -> bool:
    """The safeguarding lead has decided on it: it has left the open queue."""
    return trigger in reviewed and status_of(reviewed[trigger]) == "decided"


@dataclass(frozen=True)
class _Candidates:
    """A school's triggers and early signs still active on its day, with their sort keys
    (and each trigger's id, each alert's area): what every user's home page starts from.

    Each comes with its item already written out: an early sign's, and a trigger's as it
    reads before any review (most triggers have none). A page of a school of 1,500 pupils
    groups about 1,100 items to show twenty children, and writing them out on every view
    was a fifth of the page; a trigger with review events is written out on the view."""

    triggers: tuple[tuple[_Key, QueueItem, str, AttentionItem], ...]
    alerts: tuple[tuple[_Key, Alert, str | None, AttentionItem], ...]


def _candidates(
    cache: SchoolAnalyticsCache, con: duckdb.DuckDBPyConnection, urn: str, day: date
) -> _Candidates:
    triggers = [
        (_key("trigger", q.fired_on, urn, q.pupil_key), q, id_of(q))
        for q in cache.review_queue(con, urn)
        if still_open(q, day)
    ]
    alerts = [
        (_key("early_sign", a.started_on, urn, a.pupil_key), a, MEASURE_AREA.get(a.indicator))
        for a in cache.alerts(con, urn)
        if a.started_on <= day and 0 <= (day - a.last_signal_on).days <= ACTIVE_WINDOW_DAYS
    ]
    return _Candidates(
        tuple((key, q, tid, _trigger_item(q, urn, tid, ())) for key, q, tid in triggers),
        tuple((key, a, area, _early_sign_item(a, urn)) for key, a, area in alerts),
    )


def _pupil_items(
    queue: Sequence[tuple[_Key, QueueItem, str, AttentionItem]],
    alerts: Sequence[tuple[_Key, Alert, AttentionItem]],
    reviews: Sequence[dict[str, Any]],
    urn: str,
    reviewed: dict[str, tuple[ReviewEvent, ...]],
) -> list[_Entry]:
    # A trigger without review events reads as it was written out for the school; one with
    # events is written out with them (its status in words).
    entries: list[_Entry] = [
        (key, _trigger_item, (q, urn, trigger, reviewed[trigger]))
        if trigger in reviewed
        else (key, _itself, (item,))
        for key, q, trigger, item in queue
    ]
    entries += [(key, _itself, (item,)) for key, _, item in alerts]
    for r in reviews:
        kind = "plan_review_overdue" if r["review_overdue"] else "plan_review_due"
        due: date = r["plan_next_review_due"]
        entries.append((_key(kind, due, urn, str(r["pupil_key"])), _plan_review_item, (r, urn)))
    return entries


def _trigger_item(
    q: QueueItem, urn: str, trigger_id: str, events: tuple[ReviewEvent, ...]
) -> AttentionItem:
    card = TriggerCard(trigger_id, q, None, events)
    return AttentionItem(
        "trigger",
        q.pupil_key,
        urn,
        q.label,
        (q.summary, *q.evidence, "Review: " + card.status_text),
        ("pupil", q.pupil_key),
        q.fired_on,
        appeared_on=q.fired_on,
        status=card.status,
    )


def _early_sign_item(a: Alert, urn: str) -> AttentionItem:
    return AttentionItem(
        "early_sign",
        a.pupil_key,
        urn,
        f"Early sign: {a.indicator}",
        (a.summary, f"Rule: {a.rule}."),
        ("pupil", a.pupil_key),
        a.started_on,
        area=MEASURE_AREA.get(a.indicator),
        appeared_on=a.started_on,
    )


def _plan_review_item(r: dict[str, Any], urn: str) -> AttentionItem:
    due: date = r["plan_next_review_due"]
    kind = "EHC plan" if r["current_plan_type"] == "ehc_plan" else "Support plan"
    overdue = bool(r["review_overdue"])
    return AttentionItem(
        "plan_review_overdue" if overdue else "plan_review_due",
        str(r["pupil_key"]),
        urn,
        f"{kind} review {'overdue' if overdue else 'due soon'}",
        (
            f"The review was due on {day_text(due)}."
            if overdue
            else f"The review is due on {day_text(due)}.",
        ),
        ("pupil", str(r["pupil_key"])),
        due,
        # Overdue from the day after it was due; "due soon" from REVIEW_DUE_SOON_DAYS before.
        appeared_on=due + timedelta(days=1)
        if overdue
        else due - timedelta(days=REVIEW_DUE_SOON_DAYS),
        ehc=r["current_plan_type"] == "ehc_plan",
    )


def _sen_item(r: dict[str, Any], urn: str) -> AttentionItem:
    """A teacher's or assistant's own pupil with SEN: their plan is where what helps is."""
    ehc = r["sen_provision"] == "E"
    due: date | None = r["plan_next_review_due"]
    evidence: tuple[str, ...] = (
        "Their plan says what they need and what helps: read it before working with them."
        if r["has_current_plan"]
        else "No current plan is recorded: ask the SENCo what helps.",
    )
    title = "Has an EHC plan" if ehc else "Receives SEN support"
    if due is not None:
        # The card's line says when the plan is next reviewed (the item's day is only the
        # register's date, so the page does not show it).
        title += f" (plan review due {day_text(due)})"
    return AttentionItem(
        "sen_pupil",
        str(r["pupil_key"]),
        urn,
        title,
        evidence,
        ("plan", str(r["pupil_key"])),
        r["as_of_date"],
        appeared_on=r["on_register_since"],
        ehc=ehc,
    )


def _names(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, pupil_keys: set[str]
) -> dict[str, str]:
    """The names of a few pupils (an identified scope's EHC review steps), decrypted."""
    if not pupil_keys:
        return {}
    from empowered.identity import identity_reader

    reader = identity_reader(scope)
    return reader.names(queries.rows(con, "home_pupil_names", pupil_keys=sorted(pupil_keys)))


def _step_kind(r: dict[str, Any], day: date) -> str:
    return "ehc_step_overdue" if r["due_on"] < day else "ehc_step_due"


def _ehc_step_item(r: dict[str, Any], urn: str, day: date) -> AttentionItem:
    from empowered.views.reviews import STEP_WORDS, step_ask

    due: date = r["due_on"]
    kind = _step_kind(r, day)
    ask = step_ask(str(r["step"]), str(r["name"] or "this pupil"), due)
    evidence = (
        f"{STEP_WORDS[str(r['step'])]}: not recorded yet; it was due by {day_text(due)}."
        if kind == "ehc_step_overdue"
        else f"{STEP_WORDS[str(r['step'])]}: not recorded yet; due by {day_text(due)}.",
        "EHC plan annual review: advice and papers at least two weeks before the meeting, "
        "the report within two weeks after it (SEND Regulations 2014, regulation 20).",
    )
    return AttentionItem(
        kind,
        str(r["pupil_key"]),
        urn,
        ask + (" (overdue)" if kind == "ehc_step_overdue" else ""),
        evidence,
        ("pupil", str(r["pupil_key"])),
        due,
        appeared_on=due + timedelta(days=1) if kind == "ehc_step_overdue" else r["shows_from"],
        ehc=True,
    )


def _school_summary(
    urn: str,
    name: str,
    day: date,
    queue: Sequence[Any],
    alerts: Sequence[Any],
    reviews: Sequence[dict[str, Any]],
) -> AttentionItem:
    """Counts of children per kind of attention, suppressed: what a trust analyst sees."""
    labels = (
        "children in the review queue",
        "children with an early sign still active",
        "children whose plan review is overdue",
        "children whose plan review is due soon",
    )
    counts = [
        len({q.pupil_key for q in queue}),
        len({a.pupil_key for a in alerts}),
        len({r["pupil_key"] for r in reviews if r["review_overdue"]}),
        len({r["pupil_key"] for r in reviews if not r["review_overdue"]}),
    ]
    # Distinct children per row, so the rows overlap: a total would be wrong, not only
    # disclosive, so none is published.
    table = suppress(
        counts, row_labels=labels, column_labels=("children",), show_totals=False, unit="children"
    )
    evidence = tuple(f"{label.capitalize()}: {table.display(i)}." for i, label in enumerate(labels))
    return AttentionItem(
        "school_summary",
        None,
        urn,
        f"{name}: what needs attention",
        (*evidence, table.legend),
        ("school", urn),
        day,
        table,
    )


def _needs_without_provision(
    con: duckdb.DuckDBPyConnection, urn: str, day: date, cache: SchoolAnalyticsCache
) -> list[AttentionItem]:
    answer = cache.provision_against_need(con, urn)  # the same for every user: cached
    if not answer.needs_without_provision:
        return []
    return [
        AttentionItem(
            "needs_without_provision",
            None,
            urn,
            f"{count_phrase(len(answer.needs_without_provision), 'need')} on the register "
            "with no matching provision",
            (answer.summary,),
            ("register", urn),
            day,
            answer.table,
        )
    ]
