"""The trust's schools side by side: the trust admin's and trust analyst's home (issue 15).

A trust data lead's question is "which school needs help", not the next child: one row
per school in scope with its register, attendance of pupils with and without SEN this
academic year, provision started this year (its cost and what the impact analytics say
about the school's interventions), children with open safeguarding triggers and plan
reviews overdue. Each school's name leads to its own page (``/schools/{urn}``).

Every count on the table goes through one :func:`suppress_page` for scopes the policy
suppresses (the analyst); a rate or a cost is shown only when the count of pupils behind
it is. Columns the policy does not give the user are not read at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import duckdb

from empowered.access.sections import Section
from empowered.analytics.disclosure import THRESHOLD, DisclosedTable, suppress
from empowered.views import PupilScope, needs_suppression, queries
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache
from empowered.views.home import decided, still_open
from empowered.views.triggers import id_of, review_events_by_school

# The page's counts, in the order of the suppressed table's columns.
COLUMNS = (
    "pupils on SEN support",
    "pupils with an EHC plan",
    "children with open safeguarding triggers",
    "support plan reviews overdue",
    "EHC plan annual reviews overdue",
    "pupils with provision this year",
    "pupils with SEN with attendance this year",
    "pupils without SEN with attendance this year",
)
VERDICT_WORDS = (("keep", "worth keeping"), ("review", "worth reviewing"))


@dataclass(frozen=True)
class SchoolRow:
    """One school's figures as display text (a hidden figure is the hidden symbol)."""

    school_urn: str
    school_name: str
    on_roll: str
    on_register: str  # SEN support and EHC plans together
    on_register_share: str  # "20%", or the hidden symbol when a count behind it is hidden
    ehc_plan: str
    attendance_sen: str
    attendance_no_sen: str
    provision_cost: str
    provision_pupils: str
    impact: tuple[str, ...]  # the impact analytics' verdicts in words, one line each
    open_triggers: str
    support_reviews_overdue: str
    ehc_reviews_overdue: str


@dataclass(frozen=True)
class SchoolsSideBySide:
    rows: tuple[SchoolRow, ...]
    academic_year: str  # the year the attendance and provision columns are about
    as_of: date | None
    shows_register: bool
    shows_attendance: bool
    shows_provision: bool
    shows_triggers: bool
    shows_reviews: bool
    legend: str | None  # what the hidden symbol means, when a figure is hidden
    hidden_text: str  # the hidden symbol
    # The page sections the "needs doing" columns are (marked on the page for the tests):
    # the review queue and plan reviews for staff, an analyst's suppressed school summary.
    triggers_section: str = str(Section.HOME_TRIGGERS)
    reviews_section: str = str(Section.HOME_PLAN_REVIEWS)
    # The whole trust's row, for staff who see every figure exact: beside hidden figures a
    # total would give them away, so a suppressed table has none.
    total: SchoolRow | None = None

    def __bool__(self) -> bool:
        return bool(self.rows)

    def row(self, school_urn: str) -> SchoolsSideBySide | None:
        """The same table with one school's row (the school's own page)."""
        rows = tuple(r for r in self.rows if r.school_urn == school_urn)
        return replace(self, rows=rows, total=None) if rows else None


def schools_side_by_side(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None = None,
) -> SchoolsSideBySide:
    """One row per school in a whole-school scope (the trust-wide roles)."""
    if scope.pupils is not None:
        raise ValueError("the schools side by side are for scopes of whole schools")
    cache = DEFAULT_CACHE if cache is None else cache
    found = queries.rows(con, "schools_side_by_side", scope=scope)
    # An analyst sees the counts of children a home page summary gave them before: the
    # review queue and plan reviews, as suppressed counts (sections.HOME_SCHOOL_SUMMARY).
    summary = not scope.identified and scope.shows(Section.HOME_SCHOOL_SUMMARY)
    shows = {
        "register": scope.shows(Section.REGISTER_COUNTS),
        "attendance": scope.shows(Section.REGISTER_ATTENDANCE),
        "provision": scope.shows(Section.REGISTER_PROVISION),
        "triggers": scope.shows(Section.HOME_TRIGGERS) or summary,
        "reviews": scope.shows(Section.HOME_PLAN_REVIEWS) or summary,
    }
    triggers = _open_triggers(con, scope, found, cache) if shows["triggers"] else {}
    counts = _suppressed(found, triggers, needs_suppression(scope))
    impacts = [
        cache.provision_overview(con, str(r["school_urn"])).impacts if shows["provision"] else ()
        for r in found
    ]
    rows = tuple(_row(i, r, counts, impacts[i]) for i, r in enumerate(found))
    exact = not needs_suppression(scope) and len(found) > 1
    year = str(found[0]["academic_year"] or "") if found else ""
    days = [r["as_of_date"] for r in found if r["as_of_date"] is not None]
    return SchoolsSideBySide(
        rows,
        year,
        max(days) if days else None,
        shows["register"],
        shows["attendance"],
        shows["provision"],
        shows["triggers"],
        shows["reviews"],
        counts.legend if counts.hidden.any() else None,
        counts.hidden_text,
        str(Section.HOME_SCHOOL_SUMMARY if summary else Section.HOME_TRIGGERS),
        str(Section.HOME_SCHOOL_SUMMARY if summary else Section.HOME_PLAN_REVIEWS),
        _total(found, triggers) if exact else None,
    )


# The figures of a school that add up across schools (each pupil is on one school's roll).
SUMMED = (
    "on_roll",
    "sen_support",
    "ehc_plan",
    "support_reviews_overdue",
    "ehc_reviews_overdue",
    "sen_pupils",
    "sen_present",
    "sen_possible",
    "other_pupils",
    "other_present",
    "other_possible",
    "provision_pupils",
)


def _total(found: Sequence[dict[str, Any]], triggers: dict[str, int]) -> SchoolRow:
    """The whole trust's row: counts added up, attendance over every session."""
    summed: dict[str, Any] = {k: sum(int(r[k] or 0) for r in found) for k in SUMMED}
    summed |= {
        "school_urn": "",
        "school_name": "All schools",
        "provision_cost": sum(float(r["provision_cost"] or 0) for r in found),
    }
    table = _suppressed([summed], {"": sum(triggers.values())}, False)
    # A verdict is about one intervention at one school: they do not add up.
    return replace(_row(0, summed, table, ()), impact=())


def _open_triggers(
    con: duckdb.DuckDBPyConnection,
    scope: PupilScope,
    schools: Sequence[dict[str, Any]],
    cache: SchoolAnalyticsCache,
) -> dict[str, int]:
    """Children per school with a trigger the home page would list: fired by the school's
    as-of day, still active, and not yet decided by the DSL (views.home's own rules)."""
    reviewed = review_events_by_school(con, scope=scope)
    out: dict[str, int] = {}
    for school in schools:
        urn = str(school["school_urn"])
        day = school["as_of_date"] or date.today()
        reviewed_here = reviewed.get(urn, {})
        out[urn] = len(
            {
                q.pupil_key
                for q in cache.review_queue(con, urn)
                if still_open(q, day) and not decided(id_of(q), reviewed_here)
            }
        )
    return out


def _suppressed(
    found: Sequence[dict[str, Any]], triggers: dict[str, int], suppressed: bool
) -> DisclosedTable:
    """Every count of the page in one table, suppressed at once: schools x (pupils on the
    register by SEN status, then the children of the other columns). No total is
    published (the columns overlap), so a small count is hidden and nothing else; the
    pupils on roll are hidden with a school's register figures (``_row``), so "on roll"
    cannot give one away."""
    counts = [
        [
            int(r["sen_support"]),
            int(r["ehc_plan"]),
            triggers.get(str(r["school_urn"]), 0),
            *(int(r[c]) for c in ("support_reviews_overdue", "ehc_reviews_overdue")),
            *(int(r[c]) for c in ("provision_pupils", "sen_pupils", "other_pupils")),
        ]
        for r in found
    ]
    # Staff who may open every pupil see the figures as they are (threshold 1 hides none).
    return suppress(
        counts or [[0] * len(COLUMNS)],
        row_labels=tuple(str(r["school_name"]) for r in found) or ("no school",),
        column_labels=COLUMNS,
        threshold=THRESHOLD if suppressed else 1,
        show_totals=False,
    )


def _row(i: int, r: dict[str, Any], t: DisclosedTable, impacts: Sequence[Any]) -> SchoolRow:
    """One school's row from its figures and the page's suppressed counts (row ``i``;
    columns in the order of ``COLUMNS``)."""
    register_hidden = bool(t.hidden[i, 0] or t.hidden[i, 1])
    on_roll = int(r["on_roll"])
    on_register = int(r["sen_support"]) + int(r["ehc_plan"])
    return SchoolRow(
        school_urn=str(r["school_urn"]),
        school_name=str(r["school_name"]),
        on_roll=t.hidden_text if register_hidden else f"{on_roll:,}",
        # SEN support is one of the page's counts though not shown by itself: the
        # register's count would give a hidden one away beside the EHC plans.
        on_register=t.hidden_text if register_hidden else f"{on_register:,}",
        ehc_plan=t.display(i, 1),
        on_register_share=t.hidden_text
        if register_hidden
        else (f"{100 * on_register / on_roll:.0f}%" if on_roll else "none on roll"),
        open_triggers=t.display(i, 2),
        support_reviews_overdue=t.display(i, 3),
        ehc_reviews_overdue=t.display(i, 4),
        provision_pupils=t.display(i, 5),
        provision_cost=t.hidden_text
        if t.hidden[i, 5]
        else f"£{float(r['provision_cost'] or 0):,.0f}",
        impact=_impact_words(impacts),
        attendance_sen=_rate(r["sen_present"], r["sen_possible"], t, i, 6),
        attendance_no_sen=_rate(r["other_present"], r["other_possible"], t, i, 7),
    )


def _rate(present: Any, possible: Any, t: DisclosedTable, i: int, j: int) -> str:
    """Attendance to one decimal place (a point matters here), hidden with its pupils."""
    if t.hidden[i, j]:
        return t.hidden_text
    if not possible:
        return "none"
    return f"{100 * float(present) / float(possible):.1f}%"


def _impact_words(impacts: Sequence[Any]) -> tuple[str, ...]:
    """What the impact analytics say about a school's interventions, one line a verdict."""
    if not impacts:
        return ("no interventions recorded",)
    counts = {v: sum(1 for i in impacts if i.verdict == v) for v, _ in VERDICT_WORDS}
    early = len(impacts) - sum(counts.values())
    lines = [f"{counts[v]} {words}" for v, words in VERDICT_WORDS if counts[v]]
    return (*lines, f"{early} too early to say") if early else tuple(lines)
