"""What the trust's termly register review pack holds: the schools side by side, with small
numbers suppressed and no child named.

Every figure comes from the pages' view services with the pack's scope (``ask.scope``:
unidentified, suppressed): the trust's register and its questions
(``views.register.register_page``), the home page's schools table
(``views.trust_schools``), the provision map's interventions (``views.provision``). The one
table no page has, pupils on the register by need in each school, takes each school's
exact counts from ``register_page`` and suppresses them in ONE
:func:`~empowered.analytics.disclosure.suppress_page` with the trust's table by need as
already published, so a small school figure can be worked out neither from its own table's
totals nor from the trust's figures by need.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb

from empowered.access.sections import Section
from empowered.analytics.disclosure import (
    DisclosedTable,
    PageNotProtected,
    PageTable,
    key_of,
    suppress_page,
    withhold_page,
)
from empowered.documents.registry import Ask
from empowered.documents.review_pack_school import NeedsSinceLastTerm, needs_since_last_term
from empowered.documents.terms import Term
from empowered.views import PupilScope
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache
from empowered.views.provision import ProvisionPage, provision_page
from empowered.views.register import (
    RegisterFilters,
    RegisterPage,
    RegisterQuestions,
    register_page,
)
from empowered.views.register_disclosure import REGISTERED, SEN_LABELS
from empowered.views.trust_schools import SchoolsSideBySide, schools_side_by_side

_SEN_CODE = {label: code for code, label in SEN_LABELS.items()}


@dataclass(frozen=True)
class SchoolCounts:
    """One school's register by need, exact (from its own register page): the input of
    the suppression, never printed."""

    school_urn: str
    school_name: str
    by_need: DisclosedTable


@dataclass(frozen=True)
class TrustRegister:
    """The register's counts school by school, suppressed together with the trust's."""

    tables: tuple[PageTable, ...]  # what was suppressed (an auditor's check attacks these)
    by_status: DisclosedTable  # school x (SEN support, EHC plan), with totals
    by_need: DisclosedTable  # primary need x school, with totals


@dataclass(frozen=True)
class TrustPack:
    term: Term
    register: RegisterPage  # the whole trust, suppressed
    questions: RegisterQuestions | None
    schools: SchoolsSideBySide  # without its register columns: those are in ``counts``
    counts: TrustRegister
    needs: NeedsSinceLastTerm
    provision: ProvisionPage
    school_names: dict[str, str]


def _school_counts(
    con: duckdb.DuckDBPyConnection,
    scope: PupilScope,
    schools: SchoolsSideBySide,
    cache: SchoolAnalyticsCache,
) -> list[SchoolCounts]:
    # Exact counts for the suppression's input only: the register's counts section, no
    # names, no questions.
    out = []
    for row in schools.rows:
        exact = PupilScope(
            frozenset({row.school_urn}),
            None,
            False,
            sections=frozenset({str(Section.REGISTER_COUNTS)}),
            areas=scope.areas,
            suppress=False,
        )
        page = register_page(con, scope=exact, filters=RegisterFilters(), cache=cache)
        out.append(SchoolCounts(row.school_urn, row.school_name, page.by_need))
    return out


def _cell(t: DisclosedTable, label: str, column: str) -> int:
    if label not in t.row_labels or column not in t.column_labels:
        return 0
    return int(t.counts[t.row_labels.index(label), t.column_labels.index(column)])


def register_tables(trust_by_need: DisclosedTable, schools: list[SchoolCounts]) -> list[PageTable]:
    """The trust's table by need (as published) and the two school tables, keyed so that
    the same group of pupils has the same key in every table."""
    base = key_of(REGISTERED)
    statuses = [c for c in trust_by_need.column_labels if c in _SEN_CODE]
    needs = sorted(
        {*trust_by_need.row_labels, *(n for s in schools for n in s.by_need.row_labels)}
        - {"no pupils match"}
    )
    status_keys = tuple(key_of({"sen": _SEN_CODE[c]}) for c in statuses)
    school_keys = tuple(key_of({"school": s.school_urn}) for s in schools)
    names = tuple(s.school_name for s in schools)
    return [
        PageTable(
            name="trust_by_need",
            counts=trust_by_need.counts[
                :, [trust_by_need.column_labels.index(c) for c in statuses]
            ],
            row_labels=trust_by_need.row_labels,
            column_labels=tuple(statuses),
            row_keys=tuple(key_of({"need": n}) for n in trust_by_need.row_labels),
            column_keys=status_keys,
            base=base,
            fixed=trust_by_need,
        ),
        PageTable(
            name="by_status",
            counts=[[sum(_cell(s.by_need, n, c) for n in needs) for c in statuses] for s in schools]
            or [[0] * len(statuses)],
            row_labels=names or ("no school",),
            column_labels=tuple(statuses),
            row_keys=school_keys or (key_of({"school": "-"}),),
            column_keys=status_keys,
            base=base,
        ),
        PageTable(
            name="by_need",
            counts=[[sum(_cell(s.by_need, n, c) for c in statuses) for s in schools] for n in needs]
            or [[0] * max(len(schools), 1)],
            row_labels=tuple(needs) or ("no pupils on the register",),
            column_labels=names or ("no school",),
            row_keys=tuple(key_of({"need": n}) for n in needs) or (key_of({"need": "-"}),),
            column_keys=school_keys or (key_of({"school": "-"}),),
            base=base,
        ),
    ]


def trust_register(trust_by_need: DisclosedTable, schools: list[SchoolCounts]) -> TrustRegister:
    tables = register_tables(trust_by_need, schools)
    try:
        results = suppress_page(tables, hidden_text=trust_by_need.hidden_text)
    except PageNotProtected:
        results = withhold_page(tables, hidden_text=trust_by_need.hidden_text)
    return TrustRegister(tuple(tables), results["by_status"], results["by_need"])


def trust_pack(con: duckdb.DuckDBPyConnection, ask: Ask, term: Term) -> TrustPack:
    cache = DEFAULT_CACHE if ask.cache is None else ask.cache
    register = register_page(con, scope=ask.scope, filters=RegisterFilters(), cache=cache)
    side = schools_side_by_side(con, scope=ask.scope, cache=cache)
    counts = trust_register(register.by_need, _school_counts(con, ask.scope, side, cache))
    return TrustPack(
        term=term,
        register=register,
        questions=register.questions[0] if register.questions else None,
        schools=replace(side, shows_register=False),
        counts=counts,
        needs=needs_since_last_term(con, ask.scope, None),
        provision=provision_page(con, scope=ask.scope, cache=cache),
        school_names={r.school_urn: r.school_name for r in side.rows},
    )
