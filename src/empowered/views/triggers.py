"""The triggers page: the review queue, its early signs and the safeguarding lead's review.

The queue comes from the school's trigger rules (:mod:`empowered.analytics.triggers`, cached
per school and build); each item keeps the rule, its window and the figures behind it in the
rule's own wording. The DSL's review of an item is an append-only event log in
``app.trigger_reviews`` (acknowledged, an action added, a decision recorded), keyed by a
trigger id that stays the same across rebuilds for the same firing: the school, the pupil,
the rule and the first day it fired. The current status is derived from the log, never
stored, so the history is the record.

Nothing here decides access (the web layer asks the policy) and nothing here judges a child:
an item is a prompt for a conversation, and the decision is the DSL's.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import Any

import duckdb

from empowered.access.sections import MEASURE_AREA, Section
from empowered.analytics.early_signs import Alert
from empowered.analytics.triggers import QueueItem
from empowered.analytics.wording import day_text
from empowered.identity import identity_reader
from empowered.views import PupilScope, queries
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache

ACKNOWLEDGED, ACTION_ADDED, DECISION_RECORDED = "acknowledged", "action_added", "decision_recorded"
# Not in the review log: every action agreed on the trigger is closed (done or cancelled),
# as the actions themselves say (core.fct_action). Added to a card's events when it holds.
ACTIONS_CLOSED = "actions_closed"
EVENT_KINDS = (ACKNOWLEDGED, ACTION_ADDED, DECISION_RECORDED)
# A closed list, in safeguarding vocabulary (Working Together to Safeguard Children): the
# decision is the DSL's professional judgement, recorded, never suggested by a model.
DECISIONS: dict[str, str] = {
    "no_further_action": "No further action \u2013 keep monitoring",
    "discuss_with_family": "Discuss with the family",
    "early_help": "Early help assessment",
    "refer_social_care": "Refer to children's social care",
    "refer_other_agency": "Refer to another agency",
}
STATUS_LABELS = {
    "new": "New",
    "acknowledged": "Acknowledged",
    "action_open": "Action open",
    # Its actions are finished but no decision is recorded yet: still open in the queue.
    "actions_closed": "Actions closed",
    "decided": "Decided",
    # The rule's condition no longer holds in the latest build: out of the open queue, its
    # review history kept (the log is append-only; nothing is deleted).
    "resolved": "Resolved (no longer active)",
}
OPEN = ("new", "acknowledged", "action_open", "actions_closed")
STATUS_FILTERS = {"open": OPEN, "all": tuple(STATUS_LABELS), **{s: (s,) for s in STATUS_LABELS}}
ACTIVE_WINDOW_DAYS = 28  # an early sign seen within this many days is still listed
PER_PAGE = 20
MAX_EARLY_SIGNS = 50
MAX_TEXT = 500
MAX_NOTE = 1000


@lru_cache(maxsize=1 << 17)
def trigger_id(school_urn: str, pupil_key: str, rule_id: str, fired_on: date) -> str:
    """The same id for the same firing in every build: it names no one, and a rebuild of
    the same data finds the same rule first reached on the same day for the same pupil.

    Remembered: a trust-wide home page asks it of every trigger in the queue, several
    thousand, and each hash costs more than the rest of the page's work on the item."""
    raw = f"{school_urn}|{pupil_key}|{rule_id}|{fired_on.isoformat()}"
    return "t" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def id_of(item: QueueItem) -> str:
    return trigger_id(item.school_urn, item.pupil_key, item.rule_id, item.fired_on)


@dataclass(frozen=True)
class ReviewEvent:
    kind: str
    at: datetime
    username: str | None
    action_text: str | None = None
    action_owner: str | None = None
    action_due: date | None = None
    decision: str | None = None
    note: str | None = None

    @property
    def description(self) -> str:
        """One plain sentence for the history list."""
        who = self.username or "someone"
        if self.kind == ACKNOWLEDGED:
            return f"Acknowledged by {who}."
        if self.kind == ACTIONS_CLOSED:
            # When: the history lists each entry with its time, this one's the last closing.
            return "Every action agreed for it has been marked done or cancelled."
        if self.kind == ACTION_ADDED:
            text = f"Action added by {who}: {self.action_text}"
            if self.action_owner:
                text += f" (owner: {self.action_owner}"
                text += f", due {day_text(self.action_due)})" if self.action_due else ")"
            elif self.action_due:
                text += f" (due {day_text(self.action_due)})"
            return text + ("" if text.endswith((".", ")")) else ".")
        text = f"Decision recorded by {who}: {DECISIONS.get(self.decision or '', self.decision)}."
        if self.note:
            text += f" Reason: {self.note}"
        return text


def status_of(events: Sequence[ReviewEvent]) -> str:
    kinds = {e.kind for e in events}
    if DECISION_RECORDED in kinds:
        return "decided"
    if ACTION_ADDED in kinds:
        # Closed only if nothing was agreed after the actions were last all closed.
        latest = [e.kind for e in events if e.kind in (ACTION_ADDED, ACTIONS_CLOSED)][-1]
        return "actions_closed" if latest == ACTIONS_CLOSED else "action_open"
    if ACKNOWLEDGED in kinds:
        return "acknowledged"
    return "new"


@dataclass(frozen=True)
class TriggerCard:
    trigger_id: str
    item: QueueItem
    name: str | None  # only for identified scopes
    events: tuple[ReviewEvent, ...]

    @cached_property
    def status(self) -> str:
        # Worked out once per card: a page counts, filters and sorts hundreds of cards by
        # it, and each time asked it read all the card's events again.
        status = status_of(self.events)
        if status != "decided" and not self.item.is_active:
            return "resolved"
        return status

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def decision(self) -> str | None:
        """The latest decision's label, if one was recorded."""
        decided = [e for e in self.events if e.kind == DECISION_RECORDED]
        return DECISIONS.get(decided[-1].decision or "") if decided else None

    @property
    def actions(self) -> tuple[ReviewEvent, ...]:
        return tuple(e for e in self.events if e.kind == ACTION_ADDED)

    @property
    def status_text(self) -> str:
        """The status with when it was reached, e.g. "Acknowledged on 3 March 2026"."""
        if not self.events:
            return "New (not yet acknowledged)."
        last = self.events[-1]
        text = f"{self.status_label} (last change {day_text(last.at.date())}"
        text += f" by {last.username})" if last.username else ")"
        if self.decision:
            text += f": {self.decision}"
        return text + "."


@dataclass(frozen=True)
class EarlySign:
    alert: Alert
    name: str | None


@dataclass(frozen=True)
class TriggerFilters:
    status: str = "open"  # a key of STATUS_FILTERS
    rule: str | None = None
    pupil: str | None = None

    @classmethod
    def of(cls, status: str | None, rule: str | None, pupil: str | None) -> TriggerFilters:
        return cls(status if status in STATUS_FILTERS else "open", rule or None, pupil or None)


@dataclass(frozen=True)
class TriggersPage:
    school_urn: str | None  # None when the scope has no school
    schools: tuple[tuple[str, str], ...]  # (urn, name) the user may choose from
    filters: TriggerFilters
    cards: tuple[TriggerCard, ...]  # this page of the filtered queue
    matching: int  # cards matching the filters, all pages
    page: int
    pages: int
    by_status: dict[str, int]  # the whole queue in scope at the school, by status
    rules: tuple[tuple[str, str], ...]  # (rule_id, label) in the queue
    early_signs: tuple[EarlySign, ...]
    early_signs_total: int
    pupil_name: str | None  # for the per-pupil view
    summary: str
    # Every card in scope at the school with its review log (unnamed): the queue by child
    # groups these rather than reading the log and making the cards again.
    queue: tuple[TriggerCard, ...] = ()


def _has_reviews(con: duckdb.DuckDBPyConnection) -> bool:
    # The catalog lookup takes a fraction of a millisecond where scanning duckdb_tables()
    # took 5-10 ms, twenty times over on a trust-wide home page (as access.policy does).
    try:
        con.table("app.trigger_reviews")
    except duckdb.CatalogException:
        return False
    return True


def review_events(
    con: duckdb.DuckDBPyConnection, school_urn: str, *, scope: PupilScope
) -> dict[str, tuple[ReviewEvent, ...]]:
    """Each trigger id's review events at a school, oldest first (pupils in scope only)."""
    if not _has_reviews(con):
        return {}
    found = queries.rows(con, "trigger_review_events", scope=scope, school_urn=school_urn)
    closed = queries.rows(con, "trigger_actions_closed", scope=scope, school_urn=school_urn)
    return _events(found, closed)


def review_events_by_school(
    con: duckdb.DuckDBPyConnection, *, scope: PupilScope
) -> dict[str, dict[str, tuple[ReviewEvent, ...]]]:
    """:func:`review_events` for every school in scope at once (one query, not one per
    school): school -> trigger id -> events."""
    if not _has_reviews(con):
        return {}
    by_school: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in queries.rows(con, "trigger_review_events_scope", scope=scope):
        by_school[str(r["school_urn"])].append(r)
    closed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in queries.rows(con, "trigger_actions_closed", scope=scope, school_urn=None):
        closed[str(r["school_urn"])].append(r)
    return {school: _events(rows, closed[school]) for school, rows in by_school.items()}


def _events(
    rows: Sequence[dict[str, Any]], closed: Sequence[dict[str, Any]]
) -> dict[str, tuple[ReviewEvent, ...]]:
    """Each trigger's review events, oldest first, with :data:`ACTIONS_CLOSED` where every
    action agreed on it is closed: as many actions closed as were agreed (one agreed a
    moment ago and not yet built is open), the last closed after the last was agreed."""
    out: dict[str, list[ReviewEvent]] = defaultdict(list)
    for r in rows:
        out[str(r["trigger_id"])].append(
            ReviewEvent(
                kind=str(r["kind"]),
                at=r["at"],
                username=r["username"],
                action_text=r["action_text"],
                action_owner=r["action_owner"],
                action_due=r["action_due"],
                decision=r["decision"],
                note=r["note"],
            )
        )
    for c in closed:
        events = out.get(str(c["trigger_id"]), [])
        agreed = [e.at for e in events if e.kind == ACTION_ADDED]
        if agreed and c["closed_at"] is not None and int(c["actions"]) >= len(agreed):
            at = max(c["closed_at"], agreed[-1])
            events.append(ReviewEvent(kind=ACTIONS_CLOSED, at=at, username=None))
            events.sort(key=lambda e: e.at)
    return {k: tuple(v) for k, v in out.items()}


def _names(
    con: duckdb.DuckDBPyConnection, pupil_keys: Sequence[str], scope: PupilScope
) -> dict[str, str]:
    if not scope.identified or not pupil_keys:
        return {}
    rows = queries.rows(con, "pupil_names", scope=scope, pupil_keys=sorted(set(pupil_keys)))
    return identity_reader(scope).names(rows)


def _queue(
    con: duckdb.DuckDBPyConnection, school_urn: str, cache: SchoolAnalyticsCache | None
) -> list[QueueItem]:
    return (cache or DEFAULT_CACHE).review_queue(con, school_urn)


def _cards(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None,
    events: dict[str, tuple[ReviewEvent, ...]],
    pupil_key: str | None = None,
) -> list[TriggerCard]:
    """The school's trigger cards in scope (only ``pupil_key``'s, if given: a pupil page
    made a card for every trigger at the school to keep one child's)."""
    # Trigger cards are a section of their own (safeguarding): only for VIEW_TRIGGERS.
    if not scope.shows(Section.TRIGGERS_QUEUE):
        return []
    # A trigger nobody has reviewed has the same card on every view (its status worked out
    # once): those are kept per change of the school's results, like its queue; a card
    # with review events is made with them on the view.
    kept = (cache or DEFAULT_CACHE).derived(
        con, "trigger_cards", school_urn, None, lambda: _unreviewed(con, school_urn, cache)
    )
    return [
        TriggerCard(card.trigger_id, card.item, None, events[card.trigger_id])
        if card.trigger_id in events
        else card
        for card in kept
        if (pupil_key is None or card.item.pupil_key == pupil_key)
        and scope.admits(card.item.pupil_key, school_urn)
    ]


def _unreviewed(
    con: duckdb.DuckDBPyConnection, school_urn: str, cache: SchoolAnalyticsCache | None
) -> tuple[TriggerCard, ...]:
    return tuple(TriggerCard(id_of(q), q, None, ()) for q in _queue(con, school_urn, cache))


def triggers_page(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None = None,
    school_urn: str | None = None,
    filters: TriggerFilters | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> TriggersPage:
    """One school's review queue in scope, filtered and paged, with its early signs."""
    filters = filters or TriggerFilters()
    schools = tuple(
        (str(r["school_urn"]), str(r["school_name"]), r["as_of_date"])
        for r in queries.rows(con, "scope_schools", scope=scope)
    )
    choice = next((s for s in schools if s[0] == school_urn), schools[0] if schools else None)
    if choice is None:
        return TriggersPage(
            None, (), filters, (), 0, 1, 1, {}, (), (), 0, None, "No school is in your scope."
        )
    urn, _, as_of = choice
    events = review_events(con, urn, scope=scope)
    cards = _cards(con, urn, scope=scope, cache=cache, events=events)
    by_status = Counter(c.status for c in cards)
    rules = tuple(sorted({(c.item.rule_id, c.item.label) for c in cards}, key=lambda r: r[1]))
    wanted = STATUS_FILTERS[filters.status]
    chosen = [
        c
        for c in cards
        if c.status in wanted
        and (filters.rule is None or c.item.rule_id == filters.rule)
        and (filters.pupil is None or c.item.pupil_key == filters.pupil)
    ]
    pages = max(1, -(-len(chosen) // per_page))
    page = min(max(page, 1), pages)
    shown = chosen[(page - 1) * per_page : page * per_page]
    day = as_of or date.today()
    alerts = [
        a
        for a in (
            (cache or DEFAULT_CACHE).alerts(con, urn)
            if scope.shows(Section.TRIGGERS_EARLY_SIGNS)
            else ()
        )
        if scope.admits(a.pupil_key, urn)
        and scope.shows_area(MEASURE_AREA.get(a.indicator))
        and (filters.pupil is None or a.pupil_key == filters.pupil)
        and a.started_on <= day
        and 0 <= (day - a.last_signal_on).days <= ACTIVE_WINDOW_DAYS
    ]
    alerts.sort(key=lambda a: (a.last_signal_on, a.pupil_key, a.indicator), reverse=True)
    names = _names(
        con,
        [c.item.pupil_key for c in shown]
        + [a.pupil_key for a in alerts[:MAX_EARLY_SIGNS]]
        + ([filters.pupil] if filters.pupil else []),
        scope,
    )
    shown = [
        TriggerCard(c.trigger_id, c.item, names.get(c.item.pupil_key), c.events) for c in shown
    ]
    signs = tuple(EarlySign(a, names.get(a.pupil_key)) for a in alerts[:MAX_EARLY_SIGNS])
    open_count = sum(by_status[s] for s in OPEN)
    summary = (
        f"{open_count} open in the review queue ({by_status['new']} new), "
        f"{by_status['decided']} decided; {len(chosen)} match the filters."
    )
    return TriggersPage(
        school_urn=urn,
        schools=tuple((s[0], s[1]) for s in schools),
        filters=filters,
        cards=tuple(shown),
        matching=len(chosen),
        page=page,
        pages=pages,
        by_status={s: by_status[s] for s in STATUS_LABELS},
        rules=rules,
        early_signs=signs,
        early_signs_total=len(alerts),
        pupil_name=names.get(filters.pupil) if filters.pupil else None,
        summary=summary,
        queue=tuple(cards),
    )


def find_card(
    con: duckdb.DuckDBPyConnection,
    trigger: str,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None = None,
) -> TriggerCard | None:
    """The trigger with this id among the pupils in scope, or None (a trigger outside the
    scope and one that does not exist are not told apart)."""
    if not scope.shows(Section.TRIGGERS_QUEUE):
        return None
    for r in queries.rows(con, "scope_schools", scope=scope):
        urn = str(r["school_urn"])
        for q in _queue(con, urn, cache):
            if id_of(q) == trigger and scope.admits(q.pupil_key, urn):
                events = review_events(con, urn, scope=scope).get(trigger, ())
                name = _names(con, [q.pupil_key], scope).get(q.pupil_key)
                return TriggerCard(trigger, q, name, events)
    return None


class ReviewError(ValueError):
    """What was wrong with a review form, field by field (shown beside each field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class ReviewInput:
    kind: str
    action_text: str | None = None
    action_owner: str | None = None
    action_due: date | None = None
    decision: str | None = None
    note: str | None = None


def parse_review(kind: str, form: dict[str, Any]) -> ReviewInput:
    """Check a review form; raise :class:`ReviewError` with a message per bad field."""

    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    errors: dict[str, str] = {}
    if kind == ACKNOWLEDGED:
        return ReviewInput(ACKNOWLEDGED)
    if kind == ACTION_ADDED:
        action, owner, due_text = text("action"), text("owner"), text("due")
        if not action:
            errors["action"] = "Say what will be done."
        elif len(action) > MAX_TEXT:
            errors["action"] = f"Keep the action under {MAX_TEXT} characters."
        if len(owner) > 100:
            errors["owner"] = "Keep the owner under 100 characters."
        due = None
        if due_text:
            try:
                due = date.fromisoformat(due_text)
            except ValueError:
                errors["due"] = "Give the due date as a date, for example 2026-03-31."
        if errors:
            raise ReviewError(errors)
        return ReviewInput(
            ACTION_ADDED, action_text=action, action_owner=owner or None, action_due=due
        )
    if kind == DECISION_RECORDED:
        decision, note = text("decision"), text("note")
        if decision not in DECISIONS:
            errors["decision"] = "Choose one of the decisions."
        if len(note) > MAX_NOTE:
            errors["note"] = f"Keep the reason under {MAX_NOTE} characters."
        if errors:
            raise ReviewError(errors)
        return ReviewInput(DECISION_RECORDED, decision=decision, note=note or None)
    raise ReviewError({"kind": "Unknown kind of review."})


def add_review(
    con: duckdb.DuckDBPyConnection,
    card: TriggerCard,
    review: ReviewInput,
    *,
    user_id: int | None,
    username: str | None,
    at: datetime | None = None,
) -> bool:
    """Append one review event; False (nothing written) when acknowledging a trigger that
    is already past "new", so a double click leaves one entry."""
    if review.kind == ACKNOWLEDGED and card.status != "new":
        return False
    queries.rows(
        con,
        "trigger_review_insert",
        trigger_id=card.trigger_id,
        school_urn=card.item.school_urn,
        pupil_key=card.item.pupil_key,
        rule_id=card.item.rule_id,
        fired_on=card.item.fired_on,
        kind=review.kind,
        action_text=review.action_text,
        action_owner=review.action_owner,
        action_due=review.action_due,
        decision=review.decision,
        note=review.note,
        user_id=user_id,
        username=username,
        recorded_at=at or datetime.now(),
    )
    return True
