"""The register's unfiltered page and its suppressed tables are kept per warehouse, build
and scope for the filtered views of it: a filtered page is the same whether the unfiltered
one was kept or worked out afresh, and a rebuild makes them afresh."""

from __future__ import annotations

import duckdb
import pytest

from empowered.views import PupilScope
from empowered.views import register as register_view
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.register import RegisterFilters, register_page
from empowered.warehouse.build import build_duckdb


def figures(con: duckdb.DuckDBPyConnection, filters: RegisterFilters) -> tuple[object, ...]:
    page = register_page(
        con, scope=PupilScope.trust_analyst(), filters=filters, cache=SchoolAnalyticsCache()
    )
    return (
        page.summary,
        list(page.by_need.rows()),
        list(page.by_provision.rows()),
        [q.national.summary for q in page.questions],
    )


def test_a_filtered_page_is_the_same_with_the_unfiltered_one_kept_or_not(
    warehouse_copy: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = warehouse_copy
    filters = RegisterFilters(year_group="7")
    monkeypatch.setattr(register_view, "_PUBLISHED", register_view.Recent(16))
    fresh = figures(con, filters)
    kept_now = len(register_view._PUBLISHED._values)
    assert kept_now == 1, "the unfiltered page was kept"
    assert figures(con, filters) == fresh, "the same from what was kept"
    assert figures(con, RegisterFilters(year_group="8")) != fresh
    assert len(register_view._PUBLISHED._values) == kept_now, "one unfiltered page for both"
    # A rebuild (a new build id) works the unfiltered page out again.
    assert build_duckdb(con, touched=["raw.canonical_staff_training"]).ok
    figures(con, filters)
    assert len(register_view._PUBLISHED._values) == kept_now + 1
