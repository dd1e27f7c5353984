"""What needs attention: per pupil for identified staff, suppressed per school for analysts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.home import attention


def test_staff_see_their_own_schools_pupils_most_urgent_first(
    built: duckdb.DuckDBPyConnection, schools: list[str], cache: SchoolAnalyticsCache
) -> None:
    items = attention(built, scope=PupilScope.school(schools[0]), cache=cache)
    assert items
    assert {i.school_urn for i in items} == {schools[0]}
    keys = [(i.urgency, -i.day.toordinal()) for i in items]
    assert keys == sorted(keys)
    per_pupil = [i for i in items if i.pupil_key is not None]
    assert per_pupil and all(i.link == ("pupil", i.pupil_key) for i in per_pupil)
    assert {i.kind for i in per_pupil} & {"trigger", "early_sign", "plan_review_overdue"}
    for i in items:
        assert i.title and i.evidence and all(isinstance(e, str) and e for e in i.evidence)
    on_roll = {
        r[0]
        for r in built.execute(
            "select pupil_key from core.dim_pupil where school_urn = ?", [schools[0]]
        ).fetchall()
    }
    assert {i.pupil_key for i in per_pupil} <= on_roll


def test_a_class_scope_sees_only_its_pupils_and_no_school_items(
    built: duckdb.DuckDBPyConnection, schools: list[str], cache: SchoolAnalyticsCache
) -> None:
    everyone = attention(built, scope=PupilScope.school(schools[0]), cache=cache)
    some = frozenset(sorted({i.pupil_key for i in everyone if i.pupil_key})[:3])
    items = attention(built, scope=PupilScope(frozenset({schools[0]}), some, True), cache=cache)
    assert items and {i.pupil_key for i in items} <= some


def test_the_analyst_gets_suppressed_school_counts_and_no_pupils(
    built: duckdb.DuckDBPyConnection,
    analyst: PupilScope,
    cache: SchoolAnalyticsCache,
    disclosures: Callable[[Any], list[str]],
) -> None:
    items = attention(built, scope=analyst, cache=cache)
    assert items and all(i.pupil_key is None for i in items)
    assert {i.kind for i in items} >= {"school_summary"}
    assert all(i.table is not None for i in items if i.kind == "school_summary")
    assert disclosures(items) == []
