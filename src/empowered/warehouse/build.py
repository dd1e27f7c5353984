"""The build service: what ``empowered build``, the demo and (later) the web app call."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from importlib import metadata, resources
from pathlib import Path

import duckdb

from empowered.reference import load_reference
from empowered.reference import loader as reference_loader
from empowered.reference import schema as reference_schema
from empowered.settings import get_settings
from empowered.sources.landing import ensure_raw_tables
from empowered.warehouse.changes import (
    WHOLE,
    Change,
    current_snapshot,
    edited_models,
    forget_snapshot,
    raw_changes,
    save_snapshot,
    save_versions,
    saved_snapshot,
)
from empowered.warehouse.connection import in_transaction
from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.lake_attach import served_lake
from empowered.warehouse.lake_publish import publish
from empowered.warehouse.models import Model, discover_models
from empowered.warehouse.runner import BuildResult, ProgressCallback, record_runs, run_models
from empowered.warehouse.trigger_rules import TABLE as TRIGGER_RULES_TABLE
from empowered.warehouse.trigger_rules import sync_trigger_rules


def prepare(con: duckdb.DuckDBPyConnection, *, trigger_rules: Path | None = None) -> set[str]:
    """Make sure the source tables the models read exist: DfE seeds, empty raw tables and
    the trigger rules (``trigger_rules``, else the school's file from the settings, else
    the shipped defaults), checked before anything is built.

    Returns the source tables whose contents changed here (the trigger rules, when edited),
    so an incremental build rebuilds what reads them.
    """
    _load_reference(con)
    ensure_raw_tables(con)
    rules_path = trigger_rules or get_settings().trigger_rules
    return {TRIGGER_RULES_TABLE} if sync_trigger_rules(con, rules_path) else set()


# A build that commits model by model (incremental) is marked here while it runs: a
# process killed part-way leaves the mark, and the next build rebuilds in full.
_IN_PROGRESS_DDL = (
    "CREATE TABLE IF NOT EXISTS meta.build_in_progress (started_at TIMESTAMP NOT NULL)"
)

_REFERENCE_LOADED_DDL = "CREATE TABLE IF NOT EXISTS meta.reference_loaded (fingerprint VARCHAR)"


@functools.lru_cache(maxsize=1)
def _reference_fingerprint() -> str:
    """A digest of everything the reference tables are made from: the packaged seed files
    and the code that reads them and writes the calendar (with the bank-holiday library's
    version). Package data: it cannot change while the process runs."""
    digest = hashlib.sha256(metadata.version("holidays").encode())
    for module in (reference_loader, reference_schema):
        digest.update(Path(str(module.__file__)).read_bytes())
    folder = resources.files("empowered.reference").joinpath("seeds")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith(".csv"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()


def _load_reference(con: duckdb.DuckDBPyConnection) -> None:
    """The DfE seeds and the school-day calendar, written again only when what they are
    made from changed since the warehouse last loaded them (or a table is missing).
    Writing them on every build rewrote a 7,300-day calendar and every seed table for
    each school day's import (0.3 s at a load of 8 on the benchmark machine)."""
    fingerprint = _reference_fingerprint()
    con.execute(_REFERENCE_LOADED_DDL)
    held = con.execute("SELECT fingerprint FROM meta.reference_loaded").fetchall()
    if held == [(fingerprint,)]:
        folder = resources.files("empowered.reference").joinpath("seeds")
        wanted = {e.name.removesuffix(".csv") for e in folder.iterdir() if e.name.endswith(".csv")}
        wanted.add(reference_loader.CALENDAR_TABLE)
        present = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE database_name = current_database() AND schema_name = 'reference'"
            ).fetchall()
        }
        if wanted <= present:
            return
    load_reference(con)
    con.execute("DELETE FROM meta.reference_loaded")
    con.execute("INSERT INTO meta.reference_loaded VALUES (?)", [fingerprint])


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

    Without ``touched`` every model is rebuilt in full: the reference build. With it (the
    tables an import, a capture or a purge wrote), the build is incremental: raw tables are
    compared with the batches the last good build saw, and each model rebuilds only what
    those changes reach (empowered.warehouse.rebuild). A build that fails leaves no
    snapshot behind, so the next one is full.

    A warehouse served from a lake (empowered.warehouse.lake_attach) builds nothing here: it
    publishes the sources that changed to the lake, for the next Spark build.

    A full build runs as one transaction (unless the caller has one open): a process
    killed part-way, or a model that raises, leaves every table as it was before the
    build, where a table a statement left some marts new and others old. The runs are
    recorded either way.
    """
    lake = served_lake(con)
    if lake is not None:
        # The models are built by Spark into the lake: the app lands what it wrote there.
        prepared = prepare(con, trigger_rules=trigger_rules)
        publish(con, lake, tables=None if touched is None else {*touched, *prepared})
        return BuildResult(run_id=0, engine="lake", results=[])
    inside = in_transaction(con)
    atomic = touched is None and not inside
    # In a caller's transaction (an import with its build), a model's error aborts it: the
    # build stops there, and the caller rolls back, records the runs and sets the order
    # back (``unordered_writes`` around its transaction).
    with nullcontext() if inside else unordered_writes(con):
        if atomic:
            con.execute("BEGIN TRANSACTION")
        try:
            result = _build(
                con, touched, progress, models, models_root, trigger_rules, atomic or inside
            )
        except BaseException:
            if atomic:
                con.execute("ROLLBACK")
            raise
        if atomic and result.stopped:
            con.execute("ROLLBACK")
            record_runs(con, result)
        elif atomic:
            con.execute("COMMIT")
    return result


@contextmanager
def unordered_writes(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A model's rows need no order (those that want one say ORDER BY); not keeping the
    order of what was read lets DuckDB stream a table in parallel in far less memory. The
    setting is not part of a transaction: set it back after any rollback."""
    [(ordered,)] = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if ordered else 'false'}")


def _build(
    con: duckdb.DuckDBPyConnection,
    touched: Iterable[str] | None,
    progress: ProgressCallback | None,
    models: dict[str, Model] | None,
    models_root: Path | None,
    trigger_rules: Path | None,
    stop_on_error: bool,
) -> BuildResult:
    prepared = prepare(con, trigger_rules=trigger_rules)
    models = models or discover_models(models_root)
    snapshot = current_snapshot(con)
    changes: dict[str, Change] | None = None
    # The last build was killed part-way, some of its models committed and others not:
    # what the saved snapshot says was built cannot be trusted, so this build is full.
    con.execute(_IN_PROGRESS_DDL)
    interrupted = bool(con.execute("SELECT count(*) FROM meta.build_in_progress").fetchall()[0][0])
    if touched is not None and not interrupted:
        saved = saved_snapshot(con)
        if saved is not None:
            changes = raw_changes(saved, snapshot)
            # Tables the caller wrote where the snapshot sees no new or lost rows (reference
            # data, rules, a built table a purge emptied, a row corrected in place) changed
            # in ways only a full rebuild of what reads them can follow.
            for table in set(touched) | prepared:
                if table not in changes:
                    changes[table] = WHOLE
            # A model never built (a new warehouse, or a model added since), or whose SQL
            # changed since, is built in full.
            sqls = {name: m.sql for name, m in models.items()}
            for name in (set(models) - existing_tables(con)) | edited_models(con, sqls):
                changes[name] = WHOLE
    # Saved before the models run: it is what this build sets out to build (the
    # nothing-lost check counts only these batches), and it is forgotten if the build fails.
    save_snapshot(con, snapshot)
    if not stop_on_error:  # committed model by model: marked until the last commit
        con.execute("INSERT INTO meta.build_in_progress VALUES (now())")
    result = run_models(
        DuckDBEngine(con),
        models,
        con,
        changes=changes,
        progress=progress,
        stop_on_error=stop_on_error,
    )
    result.after_interrupted = interrupted
    if result.stopped:
        return result  # its transaction is aborted: the caller rolls it back
    con.execute("DELETE FROM meta.build_in_progress")
    if result.ok:
        save_versions(con, {name: m.sql for name, m in models.items()})
    else:
        forget_snapshot(con)
    return result


def out_of_date(con: duckdb.DuckDBPyConnection, models: dict[str, Model] | None = None) -> set[str]:
    """Models a built warehouse holds from other SQL than this release's (an upgrade that
    changed them) or never built since they were added, and every model when the last
    build was stopped part-way. Empty for a warehouse never built: there is nothing stale
    to serve."""
    con.execute(_IN_PROGRESS_DDL)
    models = models or discover_models()
    [(built,)] = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' "
        "AND table_name = 'model_versions'"
    ).fetchall()
    if not built or not con.execute("SELECT 1 FROM meta.model_versions LIMIT 1").fetchall():
        return set()
    if con.execute("SELECT 1 FROM meta.build_in_progress LIMIT 1").fetchall():
        return set(models)
    sqls = {name: m.sql for name, m in models.items()}
    return edited_models(con, sqls) | (set(models) - existing_tables(con))


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view built (a model stored as a view is built too)."""
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() UNION ALL "
        "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal"
    ).fetchall()
    return {name for (name,) in rows}
