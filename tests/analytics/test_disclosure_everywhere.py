"""Every figure about more than one pupil goes through the one suppression function.

The register of such functions is ``empowered.analytics.aggregates.MULTI_PUPIL``. This walks
it on the built small trust, for each school and for the whole trust, and checks that no
count of 1-4 is visible in anything it returns. A second test makes sure nothing slips past
the register: every public analytics function that takes a school scope and returns a
DisclosedTable-bearing result is registered.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import duckdb
import pytest

import empowered.analytics as analytics_package
from empowered.analytics.aggregates import MULTI_PUPIL
from empowered.analytics.disclosure import DisclosedTable


def all_analytics_modules() -> list[Any]:
    return [
        importlib.import_module(f"empowered.analytics.{m.name}")
        for m in pkgutil.iter_modules(analytics_package.__path__)
    ]


def visible_counts(table: DisclosedTable) -> list[int]:
    out = []
    rows, cols = table.counts.shape
    for i in range(rows):
        for j in range(cols):
            if not table.hidden[i, j]:
                out.append(int(table.counts[i, j]))
        if not table.row_total_hidden[i]:
            out.append(int(table.row_totals[i]))
    for j in range(cols):
        if not table.column_total_hidden[j]:
            out.append(int(table.column_totals[j]))
    if not table.grand_total_hidden:
        out.append(int(table.grand_total))
    return out


def test_the_register_is_not_empty() -> None:
    all_analytics_modules()
    assert len(MULTI_PUPIL) >= 4


@pytest.mark.slow
def test_no_small_count_is_visible_in_any_aggregate(built: duckdb.DuckDBPyConnection) -> None:
    all_analytics_modules()
    schools = [r[0] for r in built.execute("select school_urn from core.dim_school").fetchall()]
    checked = 0
    for name, fn in sorted(MULTI_PUPIL.items()):
        for school in [*schools, None]:
            result = fn(built, school_urn=school)
            table = result.table
            assert isinstance(table, DisclosedTable), name
            small = [n for n in visible_counts(table) if 0 < n < 5]
            assert small == [], f"{name} for {school or 'the trust'} shows {small}"
            assert isinstance(result.summary, str) and result.summary
            checked += 1
    assert checked == len(MULTI_PUPIL) * (len(schools) + 1)


def test_every_aggregate_returning_a_table_is_registered() -> None:
    registered = set(MULTI_PUPIL)
    missing = []
    for module in all_analytics_modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            params = inspect.signature(fn).parameters
            returns = str(inspect.signature(fn).return_annotation)
            result_type = getattr(module, returns, None)
            has_table = result_type is not None and "table" in getattr(
                result_type, "__dataclass_fields__", {}
            )
            if (
                "school_urn" in params
                and has_table
                and f"{module.__name__}.{name}" not in registered
            ):
                missing.append(f"{module.__name__}.{name}")
    assert missing == []
