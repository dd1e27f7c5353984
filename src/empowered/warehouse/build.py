"""The build service: what ``empowered build``, the demo and (later) the web app call."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from empowered.reference import load_reference
from empowered.sources.landing import ensure_raw_tables
from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import Model, discover_models
from empowered.warehouse.runner import BuildResult, ProgressCallback, run_models


def prepare(con: duckdb.DuckDBPyConnection) -> None:
    """Make sure the source tables the models read exist: DfE seeds and empty raw tables."""
    load_reference(con)
    ensure_raw_tables(con)


def build_duckdb(
    con: duckdb.DuckDBPyConnection,
    *,
    touched: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    models: dict[str, Model] | None = None,
    models_root: Path | None = None,
) -> BuildResult:
    """Build the warehouse in DuckDB.

    With ``touched`` (raw tables that received new rows), only the models downstream of
    them are rebuilt; everything else is left as it was.
    """
    prepare(con)
    models = models or discover_models(models_root)
    changed = None
    if touched is not None:
        # A model never built (a new warehouse, or a model added since) counts as changed,
        # so it is built along with what reads it.
        changed = set(touched) | (set(models) - existing_tables(con))
    return run_models(DuckDBEngine(con), models, con, changed=changed, progress=progress)


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()
    return {name for (name,) in rows}
