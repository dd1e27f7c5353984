"""Fixtures for the page services: scopes over the built small trust and a disclosure walker."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from empowered.analytics.disclosure import DisclosedTable
from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache

SMALL_COUNT_TEXT = re.compile(r"(?<![\d.,£])[1-4] (pupil|child|children|incident)s?\b")


@pytest.fixture(scope="session")
def schools(built: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in built.execute("select school_urn from core.dim_school order by 1").fetchall()
    ]


@pytest.fixture(scope="session")
def cache() -> SchoolAnalyticsCache:
    return SchoolAnalyticsCache()


@pytest.fixture(scope="session")
def all_pupil_keys(built: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in built.execute("select pupil_key from core.dim_pupil").fetchall()}


def _visible(table: DisclosedTable) -> list[int]:
    out = []
    rows, cols = table.counts.shape
    for i in range(rows):
        for j in range(cols):
            if not table.hidden[i, j]:
                out.append(int(table.counts[i, j]))
        if table.shows_row_totals and not table.row_total_hidden[i]:
            out.append(int(table.row_totals[i]))
    for j in range(cols):
        if table.shows_column_totals and not table.column_total_hidden[j]:
            out.append(int(table.column_totals[j]))
    return out


def find_disclosures(value: Any, pupil_keys: set[str]) -> list[str]:
    """Everything in a page result an analyst must not see: a visible count of 1-4 (in a
    table, an int field or a sentence) or a pupil key."""
    found: list[str] = []

    def walk(v: Any, path: str) -> None:
        if isinstance(v, DisclosedTable):
            found.extend(f"{path}: count {n}" for n in _visible(v) if 0 < n < 5)
            for row in v.rows():
                for cell in row.values():
                    walk(cell, f"{path}.rows")
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            for f in dataclasses.fields(v):
                walk(getattr(v, f.name), f"{path}.{f.name}")
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{path}[{k}]")
        elif isinstance(v, list | tuple | set | frozenset):
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]")
        elif isinstance(v, bool):
            return
        elif isinstance(v, int) and 0 < v < 5:
            found.append(f"{path}: int {v}")
        elif isinstance(v, str):
            if v in pupil_keys:
                found.append(f"{path}: pupil key")
            elif SMALL_COUNT_TEXT.search(v):
                found.append(f"{path}: text {v!r}")

    walk(value, "page")
    return found


@pytest.fixture
def disclosures(all_pupil_keys: set[str]) -> Callable[[Any], list[str]]:
    return lambda page: find_disclosures(page, all_pupil_keys)


@pytest.fixture(scope="session")
def analyst() -> PupilScope:
    return PupilScope.trust_analyst()
