"""The provision page: reach, cost and impact, suppressed for analysts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from empowered.views import PupilScope, queries
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.provision import provision_page


def test_a_school_sees_reach_cost_and_verdicts(
    built: duckdb.DuckDBPyConnection, schools: list[str]
) -> None:
    page = provision_page(built, scope=PupilScope.school(schools[0]))
    enrolled = built.execute(
        "select count(distinct pupil_key) from marts.provision_enrolment where school_urn = ?",
        [schools[0]],
    ).fetchone()
    assert enrolled is not None
    assert int(page.by_area.counts[:, 0].sum()) >= enrolled[0]  # a pupil may be in two areas
    assert [s.school_urn for s in page.schools] == [schools[0]]
    verdicts = page.keep + page.review + page.too_early
    assert verdicts and all(i.school_urn == schools[0] and i.evidence for i in verdicts)
    assert {i.verdict for i in page.keep} <= {"keep"}
    assert {i.verdict for i in page.review} <= {"review"}


def test_the_analyst_sees_no_small_count(
    built: duckdb.DuckDBPyConnection,
    schools: list[str],
    analyst: PupilScope,
    disclosures: Callable[[Any], list[str]],
) -> None:
    for scope in (analyst, PupilScope.trust_analyst(schools[:1])):
        page = provision_page(built, scope=scope)
        assert disclosures(page) == []


def test_a_repeat_view_of_the_same_scope_reads_nothing(
    built: duckdb.DuckDBPyConnection,
    schools: list[str],
    analyst: PupilScope,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under ten users the provision map's queries queued behind the other pages (p95
    170 ms, issue 11); the page is the same for every user of a scope until its inputs
    change."""
    cache = SchoolAnalyticsCache()
    school = PupilScope.school(schools[0])
    first = provision_page(built, scope=school, cache=cache)
    for_analyst = provision_page(built, scope=analyst, cache=cache)
    read: list[str] = []
    real = queries.rows

    def counted(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[Any]:
        read.append(name)
        return real(con, name, **params)

    monkeypatch.setattr(queries, "rows", counted)
    assert provision_page(built, scope=PupilScope.school(schools[0]), cache=cache) is first
    assert provision_page(built, scope=analyst, cache=cache) is for_analyst
    assert [n for n in read if n != "build_id"] == []
    # Another scope has a page of its own.
    other = provision_page(built, scope=PupilScope.school(schools[1]), cache=cache)
    assert other != first and "provision_by_area" in read
