"""The DSL's review queue by child (issue 15, item 2): one entry per child, the reasons under it.

The triggers themselves, their ids, review log and status come from
:mod:`empowered.views.triggers`; this module only groups a school's trigger cards by pupil,
names each child with their year and SEN status, counts, sorts, searches by name and pages
by child. A trigger whose condition no longer holds in the latest build is "resolved": it
leaves the open queue and keeps its history (``TriggerCard.status``).

Counts are computed from the review log as it is when the page is asked for, so a page drawn
after an acknowledgement or a decision counts it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb

from empowered.identity import identity_reader
from empowered.views import PupilScope, queries
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.triggers import (
    OPEN,
    STATUS_FILTERS,
    STATUS_LABELS,
    TriggerCard,
    _cards,
    review_events,
)

CHILDREN_PER_PAGE = 15
SORTS = {
    "reasons": "Most reasons first",
    "newest": "Newest first",
    "name": "Name",
}
SEN_WORDS = {"K": "SEN support", "E": "EHC plan", "N": "No SEN"}
MAX_QUERY = 80


def year_text(year_group: str | None) -> str:
    """ "Year 4", "Reception", "Nursery" (the register's codes in words)."""
    if not year_group:
        return "Year not recorded"
    code = str(year_group).strip().upper()
    return {"R": "Reception", "N": "Nursery", "N1": "Nursery", "N2": "Nursery"}.get(
        code, f"Year {code}"
    )


@dataclass(frozen=True)
class ChildEntry:
    pupil_key: str
    name: str | None  # only for identified scopes
    year: str
    sen_status: str
    cards: tuple[TriggerCard, ...]  # the reasons matching the status filter, latest first

    @property
    def newest(self) -> date:
        return max(c.item.fired_on for c in self.cards)

    @property
    def new_count(self) -> int:
        return sum(1 for c in self.cards if c.status == "new")

    @property
    def who(self) -> str:
        return self.name or f"Pupil {self.pupil_key}"


@dataclass(frozen=True)
class QueueCounts:
    children: int  # children with at least one open trigger
    open: int  # open triggers (new, acknowledged, action open)
    new: int  # not yet acknowledged
    by_status: dict[str, int]


@dataclass(frozen=True)
class ChildQueue:
    children: tuple[ChildEntry, ...]  # this page
    matching: int  # children matching the filters and search, all pages
    page: int
    pages: int
    counts: QueueCounts
    status: str
    sort: str
    q: str


def counts_of(cards: Sequence[TriggerCard]) -> QueueCounts:
    by_status = Counter(c.status for c in cards)
    open_cards = [c for c in cards if c.status in OPEN]
    return QueueCounts(
        children=len({c.item.pupil_key for c in open_cards}),
        open=len(open_cards),
        new=by_status["new"],
        by_status={s: by_status[s] for s in STATUS_LABELS},
    )


def school_cards(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None,
    pupil_key: str | None = None,
) -> list[TriggerCard]:
    """Every trigger card at the school in scope (or only ``pupil_key``'s), with its
    review log as it stands now."""
    events = review_events(con, school_urn, scope=scope)
    return _cards(con, school_urn, scope=scope, cache=cache, events=events, pupil_key=pupil_key)


def school_counts(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None,
) -> QueueCounts:
    """The queue's counts at a school as the review log stands now (after a review)."""
    return counts_of(school_cards(con, school_urn, scope=scope, cache=cache))


def _children(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    pupil_keys: Sequence[str],
    scope: PupilScope,
) -> dict[str, tuple[str | None, str, str]]:
    """pupil -> (name, year in words, SEN status in words); the name only for an identified
    scope."""
    if not pupil_keys:
        return {}
    identified = scope.identified
    rows = queries.rows(
        con,
        "trigger_children",
        scope=scope,
        school_urn=school_urn,
        pupil_keys=sorted(set(pupil_keys)),
        identified=identified,
    )
    names = identity_reader(scope).names(rows) if identified else {}
    return {
        str(r["pupil_key"]): (
            names.get(str(r["pupil_key"])),
            year_text(r["year_group"]),
            SEN_WORDS.get(str(r["sen_provision"] or ""), "SEN status not recorded"),
        )
        for r in rows
    }


def _entry(
    key: str,
    about: dict[str, tuple[str | None, str, str]],
    cards: tuple[TriggerCard, ...],
) -> ChildEntry:
    name, year, sen = about.get(key, (None, "Year not recorded", "SEN status not recorded"))
    return ChildEntry(key, name, year, sen, cards=cards)


def _sorted(children: list[ChildEntry], sort: str) -> list[ChildEntry]:
    if sort == "name":
        return sorted(children, key=lambda c: (c.who.casefold(), c.pupil_key))
    if sort == "newest":
        return sorted(children, key=lambda c: (c.newest, len(c.cards)), reverse=True)
    return sorted(children, key=lambda c: (len(c.cards), c.new_count, c.newest), reverse=True)


def open_cards_of(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    pupil_keys: Sequence[str],
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None,
) -> list[TriggerCard]:
    """Every trigger of these pupils at the school, in scope, still "new" (what a bulk
    acknowledgement acknowledges)."""
    wanted = set(pupil_keys)
    return [
        c
        for c in school_cards(con, school_urn, scope=scope, cache=cache)
        if c.item.pupil_key in wanted and c.status == "new"
    ]


def child_queue(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None = None,
    status: str = "open",
    sort: str = "reasons",
    q: str = "",
    pupil: str | None = None,
    page: int = 1,
    per_page: int = CHILDREN_PER_PAGE,
    cards: Sequence[TriggerCard] | None = None,
) -> ChildQueue:
    """One school's review queue in scope, grouped by child, filtered, searched and paged
    (from ``cards``, the school's cards in scope, when the caller has them already)."""
    status = status if status in STATUS_FILTERS else "open"
    sort = sort if sort in SORTS else "reasons"
    q = q.strip()[:MAX_QUERY]
    if cards is None:
        cards = school_cards(con, school_urn, scope=scope, cache=cache)
    wanted = STATUS_FILTERS[status]
    grouped: dict[str, list[TriggerCard]] = defaultdict(list)
    for c in cards:
        if c.status in wanted and (pupil is None or c.item.pupil_key == pupil):
            grouped[c.item.pupil_key].append(c)
    # Each child's name (decrypted), year and SEN status are read for the children of the
    # page shown only, unless the search or the order needs every child's name (as on the
    # home page: views.home_children).
    every_name = bool(q) or sort == "name"
    about = _children(con, school_urn, list(grouped), scope) if every_name else {}
    children = [
        _entry(key, about, tuple(sorted(found, key=lambda c: c.item.last_fired_on, reverse=True)))
        for key, found in grouped.items()
    ]
    if q:
        # Names only: a search by name within the scope (an unidentified scope has none).
        children = [c for c in children if c.name and q.casefold() in c.name.casefold()]
    children = _sorted(children, sort)
    pages = max(1, -(-len(children) // per_page))
    page = min(max(page, 1), pages)
    shown = children[(page - 1) * per_page : page * per_page]
    if not every_name:
        about = _children(con, school_urn, [c.pupil_key for c in shown], scope)
        shown = [_entry(c.pupil_key, about, c.cards) for c in shown]
    return ChildQueue(
        children=tuple(shown),
        matching=len(children),
        page=page,
        pages=pages,
        counts=counts_of(cards),
        status=status,
        sort=sort,
        q=q,
    )
