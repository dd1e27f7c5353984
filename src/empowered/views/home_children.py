"""The home page around children (issue 15, item 1): one card per child, the reasons under it.

The reasons are :func:`empowered.views.home.attention`'s items (each keeps its evidence and
date); this module groups them by child, drops repeats (the same reason twice is one line),
orders the children by what needs doing first for the user's role (``FIRST_FOR_ROLE``),
counts them by kind of reason for the filters at the top, and marks what appeared since the
user's previous visit (``views.home_visits``). A reason whose condition no longer holds is
not among the items (``home.attention`` drops resolved triggers, held reviews, settled early
signs), so it leaves the page by itself; its history stays where it was recorded.

Names are decrypted, and each child's year, SEN status and need read, for the children of
the page shown only (:func:`described`); names through the one identity reader, as the
DSL's queue by child does (``views.trigger_queue``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property

import duckdb

from empowered.identity import identity_reader
from empowered.views import PupilScope, queries
from empowered.views.home import AttentionItem
from empowered.views.school_words import need_label, year_label
from empowered.views.trigger_queue import SEN_WORDS

CHILDREN_PER_PAGE = 20


@dataclass(frozen=True)
class ReasonKind:
    """A kind of reason a child is on the home page: its words in the counts, and which
    items are of it (``test``, asked only of items whose ``kind`` is one of ``of``)."""

    label: str
    of: tuple[str, ...]  # the AttentionItem kinds it can be
    test: Callable[[AttentionItem], bool]
    oldest_first: bool = False  # due dates: the longest overdue (soonest due) first


_OVERDUE = ("plan_review_overdue", "ehc_step_overdue")
_REVIEW_DUE = ("plan_review_due", "ehc_step_due")
KINDS: dict[str, ReasonKind] = {
    "ehc_review_overdue": ReasonKind(
        "EHC plan review overdue", _OVERDUE, lambda i: i.ehc, oldest_first=True
    ),
    "support_review_overdue": ReasonKind(
        "Support plan review overdue", _OVERDUE, lambda i: not i.ehc, oldest_first=True
    ),
    "review_due": ReasonKind(
        "Plan review due soon", _REVIEW_DUE, lambda i: True, oldest_first=True
    ),
    "trigger_new": ReasonKind(
        "Trigger not yet acknowledged", ("trigger",), lambda i: i.status in (None, "new")
    ),
    "trigger_open": ReasonKind(
        "Trigger being reviewed", ("trigger",), lambda i: i.status not in (None, "new")
    ),
    "early_sign": ReasonKind("Early sign", ("early_sign",), lambda i: i.area != "attendance"),
    "attendance": ReasonKind(
        "Attendance early sign", ("early_sign",), lambda i: i.area == "attendance"
    ),
    "ehc_plan": ReasonKind("Has an EHC plan", ("sen_pupil",), lambda i: i.ehc),
    "sen_support": ReasonKind("Receives SEN support", ("sen_pupil",), lambda i: not i.ehc),
}
# The reason kinds each item kind may be, in KINDS order: a page groups a thousand items,
# and asking every kind's test of each was a tenth of it.
_KINDS_OF: dict[str, tuple[str, ...]] = {
    of: tuple(name for name, kind in KINDS.items() if of in kind.of)
    for of in {of for kind in KINDS.values() for of in kind.of}
}

# What needs doing first, per role (a ``Role`` value): a child comes where the first of
# their reasons comes in this list. Kinds a role's list leaves out follow, in KINDS order.
FIRST_FOR_ROLE: dict[str, tuple[str, ...]] = {
    # Statutory deadlines first (an EHC plan's annual review, then support plans), then what
    # is coming due, then the signs worth a conversation.
    "senco": (
        "ehc_review_overdue",
        "support_review_overdue",
        "review_due",
        "early_sign",
        "attendance",
        "trigger_new",
        "trigger_open",
    ),
    # Safeguarding: triggers not yet looked at, then those being reviewed.
    "dsl": ("trigger_new", "trigger_open", "early_sign", "attendance"),
    # Their own pupils with SEN first (EHC plan, then SEN support), then the others.
    "teacher": ("ehc_plan", "sen_support", "early_sign", "attendance"),
    "teaching_assistant": ("ehc_plan", "sen_support", "early_sign", "attendance"),
}
DEFAULT_FIRST = FIRST_FOR_ROLE["senco"]
NEW = "new"  # the filter for children with something new since the last visit


def order_for(role: str) -> tuple[str, ...]:
    """Every kind of reason, in the order ``role`` deals with them."""
    first = FIRST_FOR_ROLE.get(role, DEFAULT_FIRST)
    return (*first, *(k for k in KINDS if k not in first))


def kind_of(item: AttentionItem) -> str | None:
    return next((name for name in _KINDS_OF.get(item.kind, ()) if KINDS[name].test(item)), None)


@dataclass(frozen=True)
class Reason:
    item: AttentionItem
    kind: str  # a key of KINDS
    new: bool  # appeared since the user's previous visit

    @property
    def overdue(self) -> bool:
        return self.item.kind in _OVERDUE

    @property
    def date_word(self) -> str:
        """How the reason's date reads: a review's is when it was due; a trigger's or an
        early sign's is when it began (it is still going on)."""
        return "due" if KINDS[self.kind].oldest_first else "since"


@dataclass(frozen=True)
class ChildCard:
    pupil_key: str
    school_urn: str
    reasons: tuple[Reason, ...]  # in the role's order
    # The child's facts, filled in for the page shown only (:func:`described`): the order,
    # the counts and the filters need only the reasons.
    year: str = ""
    sen_status: str | None = None  # in words ("EHC plan"); None when not recorded
    need: str | None = None  # primary need in words
    ehc: bool = False
    name: str | None = None  # identified scopes only

    @property
    def who(self) -> str:
        return self.name or f"Pupil {self.pupil_key}"

    @property
    def new(self) -> bool:
        return any(r.new for r in self.reasons)

    @property
    def overdue(self) -> bool:
        return any(r.overdue for r in self.reasons)

    @cached_property
    def kinds(self) -> frozenset[str]:
        return frozenset(r.kind for r in self.reasons)


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    children: int


@dataclass(frozen=True)
class HomeChildren:
    children: list[ChildCard]  # matching the filter, in order (names not yet filled in)
    school_items: list[AttentionItem]  # about a whole school (no child)
    total: int  # children before the filter
    new: int  # children with something new since the last visit
    counts: list[KindCount]  # children per kind of reason, in the role's order
    show: str  # the filter in force ("" for every child)
    first_visit: bool


def _is_new(item: AttentionItem, since: datetime | None) -> bool:
    # By day: a reason is dated, not timed, so one that appeared on the day of the last
    # visit counts as new (better told twice than missed).
    return since is not None and item.appeared_on is not None and item.appeared_on >= since.date()


def _reasons(
    items: Sequence[AttentionItem], order: tuple[str, ...], since: datetime | None
) -> dict[tuple[str, str], tuple[Reason, ...]]:
    """Each child's reasons, repeats dropped, in the role's order (then by date)."""
    by_child: dict[tuple[str, str], dict[tuple[str, str, date], Reason]] = defaultdict(dict)
    for item in items:
        kind = kind_of(item)
        if item.pupil_key is None or kind is None:
            continue
        # The same reason twice (one review listed for two plans) is one line.
        by_child[(item.school_urn, item.pupil_key)].setdefault(
            (item.kind, item.title, item.day), Reason(item, kind, _is_new(item, since))
        )
    return {
        child: tuple(sorted(found.values(), key=lambda r: _reason_key(r, order)))
        for child, found in by_child.items()
    }


def _reason_key(r: Reason, order: tuple[str, ...]) -> tuple[int, int]:
    day = r.item.day.toordinal()
    return order.index(r.kind), day if KINDS[r.kind].oldest_first else -day


def _child_key(c: ChildCard, order: tuple[str, ...]) -> tuple[int, int, int, str]:
    rank, day = _reason_key(c.reasons[0], order)
    return rank, -len(c.reasons), day, c.pupil_key


def home_children(
    items: Sequence[AttentionItem],
    *,
    role: str,
    since: datetime | None,
    show: str = "",
) -> HomeChildren:
    """The children with something needing attention, one card each, ordered for ``role``;
    ``show`` keeps only those with a reason of that kind (or ``NEW``).

    The cards have their reasons only, which is all the order, the counts and the filters
    need: :func:`described` reads the facts and names of the page shown (nothing is read
    here)."""
    order = order_for(role)
    items = list(items)  # each item written out once (a trust's list is built lazily)
    reasons = _reasons(items, order, since)
    children = sorted(
        (ChildCard(key, urn, found) for (urn, key), found in reasons.items()),
        key=lambda c: _child_key(c, order),
    )
    counts = [
        KindCount(k, KINDS[k].label, n)
        for k in order
        if (n := sum(1 for c in children if k in c.kinds))
    ]
    show = show if show in KINDS or show == NEW else ""
    shown = [c for c in children if not show or (c.new if show == NEW else show in c.kinds)]
    return HomeChildren(
        children=shown,
        school_items=[i for i in items if i.pupil_key is None],
        total=len(children),
        new=sum(1 for c in children if c.new),
        counts=counts,
        show=show,
        first_visit=since is None,
    )


def described(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, children: Sequence[ChildCard]
) -> list[ChildCard]:
    """The page's children with their year, SEN status and need, and their names
    (decrypted for an identified scope only): read for the twenty shown, not for the
    hundreds a school's list holds."""
    if not children:
        return []
    about = {
        (str(r["school_urn"]), str(r["pupil_key"])): r
        for r in queries.rows(
            con,
            "home_children",
            scope=scope,
            pupil_keys=sorted({c.pupil_key for c in children}),
        )
    }
    names: dict[str, str] = {}
    if scope.identified:
        rows = queries.rows(
            con, "home_pupil_names", pupil_keys=sorted({c.pupil_key for c in children})
        )
        names = identity_reader(scope).names(rows)
    return [
        _facts(c, about.get((c.school_urn, c.pupil_key), {}), names.get(c.pupil_key))
        for c in children
    ]


def _facts(card: ChildCard, row: dict[str, object], name: str | None) -> ChildCard:
    status = str(row.get("sen_provision") or "")
    need = row.get("primary_need")
    return replace(
        card,
        year=year_label(str(row.get("year_group") or "")) or "Year not recorded",
        sen_status=SEN_WORDS.get(status),
        need=need_label(str(need)) if need and status in ("E", "K") else None,
        ehc=status == "E",
        name=name,
    )
