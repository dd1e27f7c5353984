"""Models stored as views (``materialized: view``): what a view passes on when its inputs
change, read from its SQL, and how an incremental build treats one (nothing to rewrite,
its row source's change passed on, its checks on the rows of the changed partitions)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from empowered.warehouse.changes import WHOLE, Change
from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.incremental import WRITTEN, IncrementalWriter
from empowered.warehouse.models import Model, discover_models
from empowered.warehouse.rebuild import rebuild
from empowered.warehouse.view_source import view_source

VIEW_SQL = (
    "select a.k, a.d, a.v * 2 as v, a.tag as label, l.w from s.src as a "
    "left join s.lk as l on l.d = a.d where a.cur"
)
D1, D2 = date(2026, 1, 5), date(2026, 1, 6)


def test_the_sessions_view_passes_on_stagings_columns_it_shows_unchanged() -> None:
    source = view_source(discover_models()["core.fct_attendance_session"].sql)
    assert source is not None
    assert source.table == "staging.stg_canonical_attendance"
    assert {"pupil_key", "school_urn", "session_date", "session"} <= source.columns
    # Renamed, or looked up in the calendar: not the row source's column of that name.
    assert not {"is_retired_code", "school_week", "academic_year"} & source.columns
    assert source.reads == {"staging.stg_canonical_attendance", "core.dim_school_calendar"}


@pytest.mark.parametrize(
    "sql",
    [
        "select a.k, count(*) as n from s.src as a group by a.k",
        "select distinct a.k from s.src as a",
        "select a.k, row_number() over (order by a.d) as n from s.src as a",
        "select a.k from s.src as a union all select b.k from s.src as b",
        "select a.k from s.src as a where a.k in (select k from s.src)",
        "select a.k from s.src as a join s.src as b on a.k = b.k",
        "select m.k from (select k from s.src) as m",
    ],
)
def test_a_view_that_is_not_row_by_row_is_followed_only_whole(sql: str) -> None:
    assert view_source(sql) is None


def test_only_columns_shown_unchanged_under_their_own_name_pass() -> None:
    source = view_source(VIEW_SQL)
    assert source is not None
    assert source.table == "s.src"
    assert source.columns == {"k", "d"}  # v is computed, label renamed, w looked up


def _model(view: bool = True) -> Model:
    return Model(
        name="s.v",
        layer="core",
        path=Path("s/v.sql"),
        sql=VIEW_SQL,
        grain="one row per k per d",
        unique_key=("k", "d"),
        checks=(),
        depends_on=frozenset({"s.src", "s.lk"}),
        incremental="by:d",
        view=view,
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA s")
    con.execute("CREATE TABLE s.src (k INT, d DATE, v INT, tag VARCHAR, cur BOOLEAN)")
    con.execute(
        "INSERT INTO s.src VALUES (1, ?, 1, 'a', true), (2, ?, 2, 'b', true), "
        "(3, ?, 3, 'c', false)",
        [D1, D2, D2],
    )
    con.execute("CREATE TABLE s.lk AS SELECT ?::DATE AS d, 1 AS w UNION ALL SELECT ?, 1", [D1, D2])
    return con


def test_a_view_passes_on_its_row_sources_change_and_keeps_the_changed_rows(
    con: duckdb.DuckDBPyConnection,
) -> None:
    engine, model = DuckDBEngine(con), _model()
    engine.materialise(model)
    writer = IncrementalWriter(con, ["d", "k", "w"])
    change = Change(keys={"d": frozenset({D2}), "k": frozenset({2}), "v": frozenset({2})})
    made, how, written = rebuild(writer, engine, model, {"s.src": change}, None)
    assert made == Change(keys={"d": frozenset({D2}), "k": frozenset({2})})
    assert how == "view: 1 d"
    assert written == WRITTEN
    assert con.execute(f"SELECT k, d, v FROM {WRITTEN}").fetchall() == [(2, D2, 4)]


def test_a_lookup_changing_changes_a_view_whole(con: duckdb.DuckDBPyConnection) -> None:
    engine, model = DuckDBEngine(con), _model()
    engine.materialise(model)
    writer = IncrementalWriter(con, ["d", "k", "w"])
    keyed = Change(keys={"d": frozenset({D2}), "k": frozenset({2})})
    made, _, written = rebuild(writer, engine, model, {"s.src": keyed, "s.lk": keyed}, None)
    assert (made, written) == (WHOLE, None)
    made, _, _ = rebuild(writer, engine, model, {"s.src": WHOLE}, None)
    assert made == WHOLE


def test_a_table_an_older_version_made_is_replaced_by_the_view(
    con: duckdb.DuckDBPyConnection,
) -> None:
    engine = DuckDBEngine(con)
    engine.materialise(_model(view=False))
    writer = IncrementalWriter(con, ["d", "k"])
    keyed = Change(keys={"d": frozenset({D2}), "k": frozenset({2})})
    made, how, _ = rebuild(writer, engine, _model(), {"s.src": keyed}, None)
    assert (made, how) == (WHOLE, "full")
    assert writer.is_view("s.v")
    con.execute("UPDATE s.src SET v = 10 WHERE k = 1")
    assert con.execute("SELECT v FROM s.v WHERE k = 1").fetchall() == [(20,)]
    # And back: a table where the view was.
    engine.materialise(_model(view=False))
    assert not writer.is_view("s.v")
    assert con.execute("SELECT count(*) FROM s.v").fetchall() == [(2,)]
