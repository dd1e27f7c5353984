"""The strategies page service: scoped results, and nothing disclosive for an analyst."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.strategies import strategies_page


def test_the_analyst_page_passes_the_disclosure_walk(
    built: duckdb.DuckDBPyConnection,
    analyst: PupilScope,
    schools: list[str],
    cache: SchoolAnalyticsCache,
    disclosures: Callable[[Any], list[str]],
) -> None:
    for school in schools:
        page = strategies_page(built, scope=analyst, cache=cache, school_urn=school)
        assert page.school_urn == school and not page.identified
        assert page.rows == () and page.grid is None and page.slots_standing == ()
        assert disclosures(page) == []


def test_a_class_scope_gets_only_its_pupils(
    built: duckdb.DuckDBPyConnection, schools: list[str], cache: SchoolAnalyticsCache
) -> None:
    school = PupilScope.school(schools[0])
    whole = strategies_page(built, scope=school, cache=cache)
    assert whole.rows, "the small trust has judged strategies"
    some = frozenset(sorted({r.pupil_key for r in whole.rows})[:2])
    page = strategies_page(built, scope=PupilScope(school.schools, some, True), cache=cache)
    assert page.rows and {r.pupil_key for r in page.rows} <= some
    assert int(page.by_strategy.counts.sum()) == len(page.rows)
    for r in page.rows:
        assert r.name and r.uses >= 10 and 0 <= r.low <= r.estimate <= r.high <= 1
        assert r.summary.startswith("About ")
