"""The warehouse file's layout version and the numbered migrations between versions.

``meta.schema_version`` holds one row per version the file reached: the version, when,
and which EmpowerED+ release took it there; the file's version is the highest. A file
with the warehouse's bookkeeping (``meta.batches``) but no version table was made before
versions were recorded: version 0. A file with neither is new, and is made at the current
version directly (``CREATE ... IF NOT EXISTS`` everywhere, then stamped).

The rule from version 1 on: a change to a table that already exists in somebody's file
(a column added, renamed, retyped; a table split) is a numbered migration here, and the
``CREATE`` statements elsewhere describe the new layout. Each migration runs in its own
transaction on a copy of the file (``warehouse.upgrade``), so it may assume the previous
version's layout, but should tolerate a table not made yet (the ``ensure_*`` functions
make some tables on first use).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

import empowered

VERSION_DDL = """CREATE TABLE IF NOT EXISTS meta.schema_version (
    version INTEGER NOT NULL,
    migrated_at TIMESTAMP NOT NULL,
    by_release VARCHAR NOT NULL,
    migration VARCHAR NOT NULL
)"""


@dataclass(frozen=True)
class Migration:
    version: int  # the version the file is at once this has run
    name: str
    why: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _adopt_versions(con: duckdb.DuckDBPyConnection) -> None:
    # Imported here: the layouts belong to their packages, which open the warehouse too.
    from empowered.access.store import ensure_access_tables
    from empowered.sources.landing import ensure_raw_tables
    from empowered.warehouse.connection import ensure_layout

    # Before versions, a table gained its columns through ``ADD COLUMN IF NOT EXISTS``
    # run on every open (the audit hash chain, must_change_password, totp_pending,
    # totp_last_step, organisation; the raw identity indexes, a school's establishment
    # type): a version-0 file may lack any of them, so all of them run here, once.
    ensure_layout(con)
    ensure_access_tables(con)
    ensure_raw_tables(con)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "adopt_versions",
        "bring a file made before versions were recorded to the layout of this release: "
        "the app tables and columns added since, the raw columns added since",
        _adopt_versions,
    ),
)


def current_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    return migrations[-1].version if migrations else 0


def file_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The layout version of the open file; None for a new (empty) file."""
    from empowered.warehouse.connection import table_exists

    if table_exists(con, "meta", "schema_version"):
        [(version,)] = con.execute("SELECT max(version) FROM meta.schema_version").fetchall()
        return int(version or 0)
    return 0 if table_exists(con, "meta", "batches") else None


def stamp(con: duckdb.DuckDBPyConnection, version: int, migration: str) -> None:
    con.execute(VERSION_DDL)
    con.execute(
        "INSERT INTO meta.schema_version VALUES (?, ?, ?, ?)",
        [version, datetime.now(), empowered.__version__, migration],
    )
