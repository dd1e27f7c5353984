"""A release that changes models: before the server serves an upgraded warehouse, the
models whose SQL changed (and what reads them) are rebuilt, so no page reads a table made
by other SQL. Reproduced as the demo showed it: a mart missing a column this release's
SQL makes (``marts.safeguarding_trigger.window_weeks``) answered every page that read it
with a binder error until someone ran ``empowered build``."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from empowered.cli import _rebuild_out_of_date
from empowered.warehouse.build import out_of_date
from empowered.warehouse.connection import open_warehouse

MART = "marts.safeguarding_trigger"


def _as_an_older_release_left_it(path: Path) -> None:
    """The mart as the previous release built it: without the column, and recorded as
    built from other SQL."""
    con = duckdb.connect(str(path))
    try:
        con.execute(f"ALTER TABLE {MART} DROP COLUMN window_weeks")
        con.execute("UPDATE meta.model_versions SET sql_hash = 'older' WHERE model = ?", [MART])
    finally:
        con.close()


def test_models_a_release_changed_are_rebuilt_before_serving(
    built_warehouse: Path, tmp_path: Path
) -> None:
    path = tmp_path / "upgraded.duckdb"
    shutil.copy(built_warehouse, path)
    con = open_warehouse(path)
    try:
        assert out_of_date(con) == set(), "a warehouse built by this release is up to date"
    finally:
        con.close()
    _as_an_older_release_left_it(path)

    con = open_warehouse(path)
    try:
        assert out_of_date(con) == {MART}
        _rebuild_out_of_date(con)
        columns = {
            c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {MART})").fetchall()
        }
        assert "window_weeks" in columns
        assert out_of_date(con) == set()
        rows = con.execute(f"SELECT count(*) FROM {MART}").fetchone()
        assert rows is not None and rows[0] > 0
    finally:
        con.close()


def test_a_warehouse_never_built_is_not_rebuilt(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "new.duckdb")
    try:
        assert out_of_date(con) == set()
    finally:
        con.close()
