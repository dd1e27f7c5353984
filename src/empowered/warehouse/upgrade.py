"""Upgrading a warehouse file made by an older release, without risking the original.

The order (``upgrade_file``): the caller has already taken a backup of the file as it is;
the file is checkpointed and closed, copied to ``<warehouse>.migrating``, and the copy is
migrated one numbered migration at a time (each in its own transaction, stamped as it
commits), checkpointed, closed and flushed to the disk. Only then does ``os.replace`` put
the copy in the original's place: one rename, which the file system makes atomic. A
failure at any step, or the process being killed, leaves the original exactly as it was
(byte for byte); a copy left behind by a killed upgrade is removed by the next one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from empowered.warehouse.migrations import MIGRATIONS, VERSION_DDL, Migration, stamp

# Given the open file (at its old version), take a backup of it and say where it is.
BackupHook = Callable[[duckdb.DuckDBPyConnection], Path]


class NewerWarehouse(RuntimeError):
    """The file was made by a newer release than this one: it is not opened."""

    def __init__(self, path: Path, version: int, current: int) -> None:
        super().__init__(
            f"the warehouse {path} was made by a newer EmpowerED+ (layout version {version};"
            f" this release knows up to {current}): upgrade the software to open it. The"
            " file was not opened or changed."
        )


class UpgradeNeeded(RuntimeError):
    """An older file opened without a way to back it up first: not migrated."""

    def __init__(self, path: Path, version: int, current: int) -> None:
        super().__init__(
            f"the warehouse {path} was made by an older EmpowerED+ (layout version {version};"
            f" this release uses {current}). Open it with the `empowered` command or the"
            " server, which back it up before upgrading it. The file was not changed."
        )


class UpgradeFailed(RuntimeError):
    """A migration failed: the original file is as it was, and the backup is kept."""

    def __init__(self, start: int, end: int, step: str, reason: str, backup: Path) -> None:
        super().__init__(
            f"the upgrade of the warehouse from version {start} to {end} failed at {step}:"
            f" {reason}. Your warehouse was not changed; a backup made before the upgrade"
            f" is at {backup}."
        )


def migrating_path(path: Path) -> Path:
    return path.with_name(path.name + ".migrating")


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def remove_copy(path: Path) -> None:
    """The copy of an upgrade that failed or was killed, and its write-ahead log."""
    copy = migrating_path(path)
    for leftover in (copy, wal_path(copy)):
        leftover.unlink(missing_ok=True)


def upgrade_file(path: Path, start: int, migrations: Sequence[Migration], backup: Path) -> None:
    """Migrate the CLOSED file at ``path`` from version ``start`` through ``migrations``
    (those above ``start``, in order) on a copy, then put the copy in its place."""
    pending = [m for m in migrations if m.version > start]
    end = pending[-1].version if pending else start
    copy = migrating_path(path)
    step = "copying the file"
    remove_copy(path)
    try:
        if wal_path(path).exists():
            # Not replayed by the checkpoint before closing: the copy would miss it.
            raise RuntimeError("the warehouse's write-ahead log was left after closing it")
        shutil.copyfile(path, copy)
        con = duckdb.connect(str(copy))
        try:
            for migration in pending:
                step = f"migration {migration.version} ({migration.name})"
                _run(con, migration)
            step = "saving the upgraded copy"
            con.execute("CHECKPOINT")
        finally:
            con.close()
        if wal_path(copy).exists():
            raise RuntimeError("the upgraded copy's write-ahead log was left after closing it")
        _flush(copy)
        step = "putting the upgraded copy in place"
        os.replace(copy, path)
        _flush(path.parent)
    except Exception as err:
        remove_copy(path)
        raise UpgradeFailed(start, end, step, _reason(err), backup) from err


def migrate_restored(
    con: duckdb.DuckDBPyConnection, start: int | None, migrations: Sequence[Migration] = MIGRATIONS
) -> None:
    """Bring tables just restored from a backup made at version ``start`` (None: before
    versions) to the current layout, in the new file being restored (no copy needed: the
    backup is the original). A stamp above ``start`` left on the new file goes first."""
    start = start or 0
    con.execute(VERSION_DDL)
    con.execute("DELETE FROM meta.schema_version WHERE version > ?", [start])
    for migration in migrations:
        if migration.version > start:
            _run(con, migration)


def _run(con: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        migration.apply(con)
        stamp(con, migration.version, migration.name)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _flush(path: Path) -> None:
    """Make the file's (or the folder's) contents durable before anything relies on them."""
    # Imported here: the backup package opens warehouses through this one.
    from empowered.backup.files import sync_folder

    sync_folder(path)


def _reason(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text.rstrip(".")
