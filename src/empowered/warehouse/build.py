"""The build service: what ``empowered build``, the demo and (later) the web app call."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from empowered.reference import load_reference
from empowered.settings import get_settings
from empowered.sources.landing import ensure_raw_tables
from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import Model, discover_models
from empowered.warehouse.runner import BuildResult, ProgressCallback, run_models
from empowered.warehouse.trigger_rules import TABLE as TRIGGER_RULES_TABLE
from empowered.warehouse.trigger_rules import sync_trigger_rules


def prepare(con: duckdb.DuckDBPyConnection, *, trigger_rules: Path | None = None) -> set[str]:
    """Make sure the source tables the models read exist: DfE seeds, empty raw tables and
    the trigger rules (``trigger_rules``, else the school's file from the settings, else
    the shipped defaults), checked before anything is built.

    Returns the source tables whose contents changed here (the trigger rules, when edited),
    so an incremental build rebuilds what reads them.
    """
    load_reference(con)
    ensure_raw_tables(con)
    rules_path = trigger_rules or get_settings().trigger_rules
    return {TRIGGER_RULES_TABLE} if sync_trigger_rules(con, rules_path) else set()


def build_duckdb(
    con: duckdb.DuckDBPyConnection,
    *,
    touched: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    models: dict[str, Model] | None = None,
    models_root: Path | None = None,
    trigger_rules: Path | None = None,
) -> BuildResult:
    """Build the warehouse in DuckDB.

    With ``touched`` (raw tables that received new rows), only the models downstream of
    them are rebuilt; everything else is left as it was. Edited trigger rules count as
    touched, so the safeguarding mart follows them.
    """
    prepared = prepare(con, trigger_rules=trigger_rules)
    models = models or discover_models(models_root)
    changed = None
    if touched is not None:
        # A model never built (a new warehouse, or a model added since) counts as changed,
        # so it is built along with what reads it.
        changed = set(touched) | prepared | (set(models) - existing_tables(con))
    return run_models(DuckDBEngine(con), models, con, changed=changed, progress=progress)


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()
    return {name for (name,) in rows}
