"""Opening the warehouse file and making sure its schemas and bookkeeping tables exist."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from empowered.warehouse.migrations import (
    MIGRATIONS,
    VERSION_DDL,
    Migration,
    current_version,
    file_version,
    stamp,
)
from empowered.warehouse.upgrade import (
    BackupHook,
    NewerWarehouse,
    UpgradeNeeded,
    upgrade_file,
)

# Order matters only for readability: data flows raw -> staging -> core -> marts; rejected
# rows go to quarantine; meta records batches and runs; reference holds the DfE seeds.
SCHEMAS = ("raw", "staging", "core", "marts", "quarantine", "meta", "reference")

# DuckDB would take 80% of the machine's memory and a full build of a 12,000-pupil trust
# used 6 GB of it; within this it spills to disk (beside the warehouse file) instead, and
# the build is no slower (benchmarks/build.py). At 1800 MB the import and build process
# peaked at 2,072 MiB, past the 2 GB target; at 1400 MB at 1,631 MiB, in the same time
# (17.8 s against 18.8 s). Settings.duckdb_memory_limit raises it.
DEFAULT_MEMORY_LIMIT = "1400MB"

# DuckDB folds its write-ahead log into the file (a checkpoint) at the commit that takes
# the log past this size; its default of 16 MB made nearly every school day's import pay
# for one inside its commit (a day's attendance writes 24 MB of log: about 0.35 s of its
# 1.7 s). Past a larger limit the fold waits for a quiet moment instead: the server's
# (``web.warehouse.Warehouse.fold_log``), or the file's closing. The log is durable
# either way; reading 40 MB of it back at the next opening takes about 0.2 s.
CHECKPOINT_THRESHOLD = "256MB"

_META_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS meta.batch_seq START 1",
    "CREATE SEQUENCE IF NOT EXISTS meta.run_seq START 1",
    """CREATE TABLE IF NOT EXISTS meta.batches (
        batch_id BIGINT PRIMARY KEY,
        source VARCHAR NOT NULL,
        entity VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        file_hash VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        extra_columns VARCHAR,
        loaded_at TIMESTAMP NOT NULL
    )""",
    # The raw batches the latest build set out to build (empowered.warehouse.changes).
    """CREATE TABLE IF NOT EXISTS meta.raw_snapshot (
        table_name VARCHAR NOT NULL,
        batch_id BIGINT,
        row_count BIGINT NOT NULL,
        fingerprint HUGEINT
    )""",
    """CREATE TABLE IF NOT EXISTS meta.model_runs (
        run_id BIGINT NOT NULL,
        model VARCHAR NOT NULL,
        layer VARCHAR NOT NULL,
        engine VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        row_count BIGINT,
        seconds DOUBLE,
        message VARCHAR,
        finished_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS meta.check_results (
        run_id BIGINT NOT NULL,
        model VARCHAR NOT NULL,
        check_name VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        failing_rows BIGINT NOT NULL,
        sample VARCHAR,
        finished_at TIMESTAMP NOT NULL
    )""",
)


def open_warehouse(
    path: Path | str,
    *,
    read_only: bool = False,
    threads: int | None = None,
    memory_limit: str | None = None,
    backup: BackupHook | None = None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file and ensure its layout.

    A file made by an older release is upgraded first when opened for writing: ``backup``
    takes a backup of it, then ``warehouse.upgrade`` migrates a copy and puts it in place
    (without ``backup`` it is refused: ``UpgradeNeeded``). A file made by a newer release is
    refused (``NewerWarehouse``). Read-only opens never migrate."""
    con = _connect(path, read_only, threads, memory_limit)
    try:
        version = file_version(con)
        current = current_version(migrations)
        if version is not None and version > current:
            raise NewerWarehouse(Path(path), version, current)
        if read_only:
            return con
        if version is None or version == current:
            ensure_layout(con)
            if version is None:
                stamp(con, current, "new warehouse")
            return con
        if backup is None:
            raise UpgradeNeeded(Path(path), version, current)
        # Everything committed is in the file itself before it is backed up and copied.
        con.execute("CHECKPOINT")
        taken = backup(con)
    except BaseException:
        con.close()
        raise
    con.close()
    upgrade_file(Path(path), version, migrations, taken)
    return open_warehouse(path, threads=threads, memory_limit=memory_limit, migrations=migrations)


def _connect(
    path: Path | str, read_only: bool, threads: int | None, memory_limit: str | None
) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    if not memory_limit:
        # Set, not passed as configuration: DuckDB refuses a second connection to a file
        # with a configuration other than the first's, and a plain connect() passes none.
        con.execute("SET memory_limit = ?", [DEFAULT_MEMORY_LIMIT])
    con.execute("SET checkpoint_threshold = ?", [CHECKPOINT_THRESHOLD])
    # DuckDB draws its own progress bar on long queries; the CLI reports progress per
    # model, and a bar in the server's log or a restore's output is only noise.
    con.execute("SET enable_progress_bar = false")
    return con


def ensure_layout(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for ddl in _META_DDL:
        con.execute(ddl)
    con.execute(VERSION_DDL)


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a table or a view; ``schema`` and ``table`` are
    names from code, never user input). Looking the one name up in the catalog takes a
    fraction of a millisecond, where scanning duckdb_tables() took 5-30 ms on every
    request; a missing name raises without aborting a transaction the caller may have
    open (a failed query would)."""
    try:
        con.table(f'"{schema}"."{table}"')
    except duckdb.CatalogException:
        return False
    return True


def in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` has a transaction open. DuckDB has no call for it, and a failed
    BEGIN aborts the caller's transaction: in auto-commit mode every statement gets a new
    transaction id, inside an open transaction both answers are the same."""
    first = con.execute("SELECT txid_current()").fetchone()
    second = con.execute("SELECT txid_current()").fetchone()
    return first == second
