"""The strategies page for an analyst: "children it stood out for" appears per strategy and
as the row total of the by-area table; suppressed together, neither gives the other away
(issue 10, finding 5)."""

from __future__ import annotations

import duckdb
from test_register_disclosure import Reader

from empowered.views import PupilScope
from empowered.views.strategies import CHILDREN_STOOD_OUT, strategies_page


def reader_of(by_strategy: object, standing: object) -> Reader:
    reader = Reader()
    reader.table("by strategy", by_strategy)  # type: ignore[arg-type]
    reader.table("standing", standing)  # type: ignore[arg-type]
    for name in standing.row_labels:  # type: ignore[attr-defined]
        reader.same(("by strategy", name, CHILDREN_STOOD_OUT), ("standing", name, "Total"))
    return reader


def test_the_analysts_strategy_tables_give_nothing_away(
    built: duckdb.DuckDBPyConnection, analyst: PupilScope, schools: list[str]
) -> None:
    checked = 0
    for school in schools:
        page = strategies_page(built, scope=analyst, school_urn=school)
        if page.standing_by_area is None:
            continue
        checked += 1
        assert reader_of(page.by_strategy, page.standing_by_area).small_recovered() == {}
    assert checked, "some school has strategies that stood out"
