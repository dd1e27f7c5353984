"""What one school's termly register review pack holds, from the pages' own view services.

The register and its questions (``views.register.register_page``), the provision map's
interventions (``views.provision.provision_page``), the home page's overdue plan reviews
(``views.home.attention``), the school's open actions (``views.actions``) and the SENCo's
one-sentence notes (``views.pupil_note``), all with the pack's scope (``ask.scope``: the
review pack's sections only, so no safeguarding record is read). The pack stays in the
school: children are named, counts are exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime

import duckdb

from empowered.analytics import queries as analytics_queries
from empowered.analytics.disclosure import DisclosedTable
from empowered.analytics.register import low_or_falling
from empowered.analytics.wording import day_text
from empowered.documents.registry import Ask
from empowered.documents.terms import Term
from empowered.views import PupilScope, count_table
from empowered.views.actions import ActionItem, list_actions
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache
from empowered.views.home import attention
from empowered.views.plan import plan_page
from empowered.views.provision import ProvisionPage, provision_page
from empowered.views.pupil_note import latest_note
from empowered.views.register import (
    RegisterFilters,
    RegisterPage,
    RegisterQuestions,
    RegisterRow,
    register_page,
)
from empowered.views.school_words import need_label
from empowered.warehouse.connection import table_exists

# Words in a plan that show it takes attendance on (an outcome, its provision, a need).
ATTENDANCE_WORDS = re.compile(r"attend|absen|punctual|school refus|getting to school", re.I)


@dataclass(frozen=True)
class NeedsSinceLastTerm:
    """Pupils on the register by primary need at the start of the last two terms begun
    (``marts.register_need_by_term``), and the needs that grew or shrank."""

    table: DisclosedTable  # need x (earlier term, latest term); no total column
    earlier: str | None  # "autumn term 2026 (1 September 2026)"
    latest: str | None
    growing: tuple[str, ...]  # one line per need, in words
    shrinking: tuple[str, ...]


@dataclass(frozen=True)
class AttendancePupil:
    pupil_key: str
    name: str | None
    year: str
    need: str
    attendance: float | None
    change: float | None  # points over the last six weeks against before
    has_plan: bool
    plan_addresses: bool | None  # None: no current plan

    @property
    def change_words(self) -> str:
        """ "down 9 points", "up 4 points", "no change", "not known" """
        if self.change is None:
            return "not known"
        points = round(100 * self.change)
        if points == 0:
            return "no change"
        return (
            f"{'up' if points > 0 else 'down'} {abs(points)} point{'s' if abs(points) != 1 else ''}"
        )

    @property
    def plan_words(self) -> str:
        if not self.has_plan:
            return "no current plan"
        return "yes" if self.plan_addresses else "no"


@dataclass(frozen=True)
class OverdueReview:
    pupil_key: str
    name: str | None
    kind: str  # "Support plan" | "EHC plan"
    due_on: date


@dataclass(frozen=True)
class PupilNoteLine:
    pupil_key: str
    name: str | None
    year: str
    status: str
    note: str
    written_at: datetime


@dataclass(frozen=True)
class SchoolPack:
    term: Term
    register: RegisterPage
    questions: RegisterQuestions | None
    needs: NeedsSinceLastTerm
    provision: ProvisionPage
    attendance: tuple[AttendancePupil, ...]
    overdue: tuple[OverdueReview, ...]
    actions: tuple[ActionItem, ...]  # open ones, overdue first
    notes: tuple[PupilNoteLine, ...]


def _term_words(term: str, first: date) -> str:
    return f"{term} term {first.year} ({day_text(first)})"


def needs_since_last_term(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, school_urn: str | None
) -> NeedsSinceLastTerm:
    """The register's needs at the start of the last two terms begun, through the
    scope's suppression (exact for a school's own pack)."""
    rows = analytics_queries.rows(con, "need_by_term", school_urn=school_urn)
    starts = sorted({(r["term_start"], str(r["term"])) for r in rows})
    # Across schools the same term starts on different days: keyed by the term's name.
    terms: list[tuple[str, date]] = []
    for first, term in starts:
        name = f"{term} {first.year}"
        if not terms or terms[-1][0] != name:
            terms.append((name, first))
    wanted = terms[-2:]
    counts: dict[str, list[int]] = {}
    for r in rows:
        name = f"{r['term']} {r['term_start'].year}"
        for j, (t, _) in enumerate(wanted):
            if t == name:
                counts.setdefault(str(r["primary_need"]), [0] * len(wanted))[j] += int(r["pupils"])
    needs = sorted(counts, key=need_label)
    labels = [_term_words(t.split()[0], first) for t, first in wanted]
    while len(labels) < 2:
        labels.insert(0, "no earlier term recorded")
    table = count_table(
        scope,
        [[0] * (2 - len(counts[n])) + counts[n] for n in needs] or [[0, 0]],
        row_labels=tuple(need_label(n) for n in needs) or ("no pupils on the register",),
        column_labels=(f"start of the {labels[0]}", f"start of the {labels[1]}"),
    )
    table = replace(table, adds_across=False)  # two moments, not two groups of pupils
    growing, shrinking = [], []
    for i, need in enumerate(table.row_labels):
        if len(wanted) < 2 or table.hidden[i, 0] or table.hidden[i, 1]:
            continue
        before, now = int(table.counts[i, 0]), int(table.counts[i, 1])
        line = f"{need}: {before} to {now} pupils"
        if now > before:
            growing.append(f"{line} (up {now - before})")
        elif now < before:
            shrinking.append(f"{line} (down {before - now})")
    return NeedsSinceLastTerm(
        table,
        labels[0] if len(wanted) == 2 else None,
        labels[1] if wanted else None,
        tuple(growing),
        tuple(shrinking),
    )


def _attendance(
    con: duckdb.DuckDBPyConnection,
    ask: Ask,
    school_urn: str,
    listed: dict[str, RegisterRow],
    cache: SchoolAnalyticsCache,
) -> tuple[AttendancePupil, ...]:
    """Pupils on the register whose attendance is low or falling (the register
    analytics' own rule and figures), and whether their current plan takes it on."""
    out = []
    for r in analytics_queries.rows(con, "register_pupils", school_urn=school_urn):
        rate, change = r["attendance_rate"], r["attendance_change"]
        key = str(r["pupil_key"])
        if not r["on_register"] or key not in listed or not low_or_falling(rate, change):
            continue
        row = listed[key]
        addresses = None
        if row.has_current_plan:
            current = plan_page(con, key, scope=ask.scope, cache=cache).current
            words = [] if current is None else [t or "" for _, _, t in current.texts]
            for o in current.outcomes if current else ():
                words += [o.text or "", o.provision or ""]
            addresses = any(ATTENDANCE_WORDS.search(w) for w in words)
        out.append(
            AttendancePupil(
                key,
                row.name,
                row.year_words,
                row.primary_need_name or row.primary_need or "no need recorded",
                float(rate),
                None if change is None else float(change),
                row.has_current_plan,
                addresses,
            )
        )
    return tuple(sorted(out, key=lambda p: (p.plan_addresses is True, p.attendance or 0)))


def _overdue(
    con: duckdb.DuckDBPyConnection,
    scope: PupilScope,
    listed: dict[str, RegisterRow],
    cache: SchoolAnalyticsCache,
) -> tuple[OverdueReview, ...]:
    """The home page's overdue plan reviews for the school, longest overdue first."""
    items = [i for i in attention(con, scope=scope, cache=cache) if i.kind == "plan_review_overdue"]
    return tuple(
        sorted(
            (
                OverdueReview(
                    str(i.pupil_key),
                    listed[str(i.pupil_key)].name if str(i.pupil_key) in listed else None,
                    "EHC plan" if i.ehc else "Support plan",
                    i.day,
                )
                for i in items
            ),
            key=lambda o: (o.due_on, o.pupil_key),
        )
    )


def _notes(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, pupils: tuple[RegisterRow, ...]
) -> tuple[PupilNoteLine, ...]:
    if not table_exists(con, "app", "pupil_notes"):
        return ()  # a warehouse the app has never opened: no note written yet
    out = []
    for p in pupils:
        note = latest_note(con, p.pupil_key, scope=scope)
        if note is not None:
            status = {"E": "EHC plan", "K": "SEN support"}.get(p.sen_provision, "no SEN")
            out.append(
                PupilNoteLine(p.pupil_key, p.name, p.year_words, status, note.note, note.written_at)
            )
    return tuple(sorted(out, key=lambda n: ((n.name or "").casefold(), n.pupil_key)))


def school_pack(con: duckdb.DuckDBPyConnection, ask: Ask, term: Term) -> SchoolPack:
    if ask.school_urn is None:
        raise ValueError("a school's review pack needs the school")
    cache = DEFAULT_CACHE if ask.cache is None else ask.cache
    register = register_page(con, scope=ask.scope, filters=RegisterFilters(), cache=cache)
    listed = {p.pupil_key: p for p in register.pupils}
    return SchoolPack(
        term=term,
        register=register,
        questions=register.questions[0] if register.questions else None,
        needs=needs_since_last_term(con, ask.scope, ask.school_urn),
        provision=provision_page(con, scope=ask.scope, cache=cache),
        attendance=_attendance(con, ask, ask.school_urn, listed, cache),
        overdue=_overdue(con, ask.scope, listed, cache),
        actions=tuple(
            a
            for a in list_actions(
                con,
                schools=frozenset({ask.school_urn}),
                owner=None,
                reader_scope=ask.scope,
                today=ask.made_on,
                keys=ask.keys,
            )
            if a.is_open
        ),
        notes=_notes(con, ask.scope, register.pupils),
    )
