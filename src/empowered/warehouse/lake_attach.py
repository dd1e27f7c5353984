"""Serving a lake: the app's warehouse reads the models' tables from a lake Spark built.

Every model becomes a DuckDB view over its Parquet files in the lake's latest snapshot
(Parquet is built into DuckDB), with each column cast to the type DuckDB's own build
gives it, so pages, exports and the policy read exactly what they read from a DuckDB
build. The app's own tables (accounts, audit, captures in raw, the landing log) stay in
its file: the app remains the record, and the lake holds what is built from it. A
warehouse served from a lake says so in ``meta.lake``; its builds publish the sources
the app wrote to the lake instead of building (empowered.warehouse.build), and the
models' runs and checks recorded by Spark are copied into its ``meta`` to be shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from empowered.warehouse.connection import table_exists
from empowered.warehouse.lake import Lake, Snapshot, TableEntry
from empowered.warehouse.models import Model, build_order, discover_models
from empowered.warehouse.runner import insert_rows

_LAKE_DDL = (
    "CREATE TABLE IF NOT EXISTS meta.lake (uri VARCHAR NOT NULL, version BIGINT NOT NULL, "
    "attached_at TIMESTAMP NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta.lake_builds (build VARCHAR NOT NULL, run_id BIGINT NOT NULL)",
)


@dataclass(frozen=True)
class Attached:
    version: int
    views: int
    builds: int  # Spark builds whose records were copied into meta


def served_lake(con: duckdb.DuckDBPyConnection) -> Lake | None:
    """The lake this warehouse is served from, if any."""
    # Asked on every build (each capture's): a catalog scan cost 1-3 ms of it.
    if not table_exists(con, "meta", "lake"):
        return None
    rows = con.execute("SELECT uri FROM meta.lake").fetchall()
    return Lake(rows[0][0]) if rows else None


def attached_version(con: duckdb.DuckDBPyConnection) -> int:
    rows = con.execute("SELECT version FROM meta.lake").fetchall() if served_lake(con) else []
    return int(rows[0][0]) if rows else 0


def attach(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    *,
    models: dict[str, Model] | None = None,
    snapshot: Snapshot | None = None,
) -> Attached:
    """Point every model's table at the lake's latest snapshot (in one transaction: a page
    reads all of one build or all of the next), and copy in the records of its builds."""
    models = models or discover_models()
    snapshot = snapshot or lake.current()
    con.execute("BEGIN TRANSACTION")
    try:
        for ddl in _LAKE_DDL:
            con.execute(ddl)
        kinds = dict(
            con.execute(
                "SELECT schema_name || '.' || table_name, 'TABLE' FROM duckdb_tables() "
                "WHERE database_name = current_database() UNION ALL "
                "SELECT schema_name || '.' || view_name, 'VIEW' FROM duckdb_views() "
                "WHERE database_name = current_database() AND NOT internal"
            ).fetchall()
        )
        views = 0
        for model in build_order(models):
            if kinds.get(model.name) == "TABLE":
                con.execute(f"DROP TABLE {model.name}")
            sql = _view_sql(con, lake, model, snapshot.tables.get(model.name))
            con.execute(f"CREATE OR REPLACE VIEW {model.name} AS\n{sql}")
            views += 1
        builds = _copy_build_records(con, lake, snapshot)
        con.execute("DELETE FROM meta.lake")
        con.execute(
            "INSERT INTO meta.lake VALUES (?, ?, now())", [str(lake.root), snapshot.version]
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Attached(snapshot.version, views, builds)


def _view_sql(
    con: duckdb.DuckDBPyConnection, lake: Lake, model: Model, entry: TableEntry | None
) -> str:
    """A model's view: its own SQL when it is a view (over the views before it), else a
    read of its files with each column as DuckDB types it; no rows when Spark has not
    built it yet, or built it with fewer columns."""
    if model.view:
        return model.sql
    described = con.execute(f"DESCRIBE SELECT * FROM ({model.sql}) AS m").fetchall()
    types = {str(row[0]): str(row[1]) for row in described}
    # Built by an older release whose table lacks a column this one reads: no rows until
    # Spark builds it again (the build does, its SQL having changed), rather than pages
    # failing on the missing column.
    if entry is None or not entry.files or set(types) - set(entry.columns):
        casts = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t in types.items())
        return f"SELECT {casts} WHERE false"
    files = ", ".join("'" + str(lake.path(f)).replace("'", "''") + "'" for f in entry.files)
    casts = ", ".join(f'CAST("{c}" AS {types[c]}) AS "{c}"' for c in types)
    # The files' own columns only: the folders' columns copy the table's and are not read.
    return f"SELECT {casts} FROM read_parquet([{files}], hive_partitioning = false)"


def _copy_build_records(con: duckdb.DuckDBPyConnection, lake: Lake, snapshot: Snapshot) -> int:
    """Copy the model runs and checks of Spark builds not yet copied, each under a run id
    of this warehouse (the page of builds and the pages' caches follow run ids)."""
    copied = {b for (b,) in con.execute("SELECT build FROM meta.lake_builds").fetchall()}
    count = 0
    for build, relative in snapshot.builds:
        if build in copied:
            continue
        path = lake.path(relative)
        if not path.exists():
            continue  # removed by vacuum after newer builds: nothing to show of it
        record = json.loads(path.read_text(encoding="utf-8"))
        [(run_id,)] = con.execute("SELECT nextval('meta.run_seq')").fetchall()
        # A statement per table, not per row: a build records a few hundred checks.
        runs = [
            [run_id, r["model"], r["layer"], r["engine"], r["status"], r["row_count"],
             r["seconds"], r["message"], r["finished_at"]]
            for r in record["model_runs"]
        ]  # fmt: skip
        checks = [
            [run_id, c["model"], c["check_name"], c["severity"], c["status"],
             c["failing_rows"], c["sample"], c["finished_at"]]
            for c in record["check_results"]
        ]  # fmt: skip
        insert_rows(con, "meta.model_runs", runs)
        insert_rows(con, "meta.check_results", checks)
        con.execute("INSERT INTO meta.lake_builds VALUES (?, ?)", [build, run_id])
        count += 1
    return count


def detach(con: duckdb.DuckDBPyConnection) -> None:
    """Stop serving the lake: the next build (a full one) makes the models' tables here."""
    if served_lake(con) is not None:
        con.execute("DELETE FROM meta.lake")
