"""A warehouse made by an older release is backed up, then migrated on a copy that replaces
it only when every migration has run; a failure or a kill leaves the original as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from pydantic import SecretStr

from empowered.access.store import ensure_access_tables
from empowered.backup import list_backups, restore_backup
from empowered.keys import encode_identity_key
from empowered.settings import Settings
from empowered.sources.canonical import ENTITIES
from empowered.sources.landing import ensure_raw_tables
from empowered.upgrade_backup import backup_before_upgrade
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.migrations import MIGRATIONS, Migration, current_version, file_version
from empowered.warehouse.upgrade import (
    NewerWarehouse,
    UpgradeFailed,
    UpgradeNeeded,
    migrating_path,
    wal_path,
)
from warehouse_state import contents

# Columns the releases before versions added to existing tables with ADD COLUMN IF NOT
# EXISTS: a file from before them lacks them, and migration 1 must add them.
RAW_ENTITY = next(e for e in ENTITIES.values() if e.index_columns)
ADDED_SINCE = (
    ("app", "users", "organisation"),
    ("app", "users", "totp_last_step"),
    ("app", "audit_log", "entry_hash"),
    ("app", "audit_log", "prev_hash"),
    (*RAW_ENTITY.raw_table.split("."), RAW_ENTITY.index_columns[0]),
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_version_0(built_warehouse: Path, target: Path) -> None:
    """The small trust as the release before versions left it: imported, built, with
    accounts and audit entries, no version table, without the columns added since."""
    shutil.copy(built_warehouse, target)
    con = duckdb.connect(str(target))
    ensure_access_tables(con)
    ensure_raw_tables(con)
    con.execute(
        "INSERT INTO app.users (username, role, password_hash, created_at, "
        "password_changed_at) VALUES ('senco1', 'senco', 'x', now(), now())"
    )
    con.execute("INSERT INTO app.audit_log (\"at\", event, page) VALUES (now(), 'viewed', '/')")
    con.execute("DROP TABLE IF EXISTS meta.schema_version")
    for schema, table, column in ADDED_SINCE:
        con.execute(f"ALTER TABLE {schema}.{table} DROP COLUMN {column}")
    con.execute("CHECKPOINT")
    con.close()


@pytest.fixture(scope="module")
def version_0(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("v0") / "v0.duckdb"
    make_version_0(built_warehouse, path)
    return path


@pytest.fixture
def old(version_0: Path, tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    shutil.copy(version_0, path)
    return path


def copy_backup(folder: Path) -> Callable[[duckdb.DuckDBPyConnection], Path]:
    """A stand-in backup: the checkpointed file's bytes, and its version when taken."""

    def take(con: duckdb.DuckDBPyConnection) -> Path:
        [(name,)] = con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchall()
        folder.mkdir(exist_ok=True)
        target = folder / f"before-v{file_version(con)}.duckdb"
        shutil.copy(name, target)
        return target

    return take


def test_an_old_warehouse_is_backed_up_then_migrated_with_its_data(
    old: Path, tmp_path: Path
) -> None:
    before = contents(old)
    original = sha256(old)
    settings = Settings(
        warehouse=old,
        key_file=tmp_path / "w.keys",
        backup_dir=tmp_path / "backups",
        backup_key=SecretStr(encode_identity_key(bytes(range(32)))),
    )
    shutil.copy(os.environ["EMPOWERED_KEY_FILE"], settings.key_path)
    real = backup_before_upgrade(settings, old)
    taken: list[Path] = []

    def backup(con: duckdb.DuckDBPyConnection) -> Path:
        assert file_version(con) == 0 and sha256(old) == original  # before anything changed
        taken.append(copy_backup(tmp_path / "copy")(con))
        return real(con)

    con = open_warehouse(old, backup=backup)
    try:
        assert file_version(con) == current_version() == MIGRATIONS[-1].version
        [(migration, release)] = con.execute(
            "SELECT migration, by_release FROM meta.schema_version"
        ).fetchall()
        assert migration == "adopt_versions" and release
        for schema, table, column in ADDED_SINCE:
            assert con.execute(
                "SELECT count(*) FROM duckdb_columns() WHERE schema_name = ? "
                "AND table_name = ? AND column_name = ?",
                [schema, table, column],
            ).fetchall() == [(1,)]
    finally:
        con.close()
    # The backups were taken first, of the file as the old release left it.
    assert [sha256(p) for p in taken] == [original]
    [made] = list_backups(tmp_path / "backups")
    assert made.row_counts["app.users"] == 1
    assert made.row_counts["raw.canonical_pupils"] == before["raw.canonical_pupils"].rows > 0
    # Every row of every table is still there (over the columns the old file had).
    columns = {name: d.columns for name, d in before.items()}
    assert contents(old, columns) == before
    assert not migrating_path(old).exists()
    # Opened again: at the current version, nothing to do, no second backup.
    open_warehouse(old, backup=lambda con: pytest.fail("backed up again")).close()
    # The backup restores to today's layout too (the restore migrates what it loaded).
    restored = tmp_path / "restored.duckdb"
    restore_backup(made.path, restored, settings.keys(), bytes(range(32)))
    con = duckdb.connect(str(restored), read_only=True)
    try:
        assert file_version(con) == current_version()
        assert con.execute("SELECT organisation FROM app.users").fetchall() == [(None,)]
    finally:
        con.close()


def fails(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE meta.half_done AS SELECT 1 AS x")
    raise RuntimeError("the test's migration refused")


def test_a_failed_migration_leaves_the_file_byte_for_byte(old: Path, tmp_path: Path) -> None:
    original = sha256(old)
    broken = (*MIGRATIONS, Migration(2, "test_fails", "fails on purpose", fails))
    with pytest.raises(UpgradeFailed) as failed:
        open_warehouse(old, backup=copy_backup(tmp_path / "b"), migrations=broken)
    message = str(failed.value)
    assert "from version 0 to 2 failed at migration 2 (test_fails)" in message
    assert "the test's migration refused" in message
    assert "Your warehouse was not changed" in message and str(tmp_path / "b") in message
    assert sha256(old) == original
    assert not migrating_path(old).exists() and not wal_path(migrating_path(old)).exists()
    assert not wal_path(old).exists()


SLOW_UPGRADE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from empowered.warehouse.connection import open_warehouse
    from empowered.warehouse.migrations import MIGRATIONS, Migration

    def slow(con):
        con.execute("CREATE TABLE meta.half_done AS SELECT range AS x FROM range(100000)")
        Path(sys.argv[2]).touch()
        time.sleep(120)

    open_warehouse(
        sys.argv[1],
        backup=lambda con: Path(sys.argv[2]).with_name("backup"),
        migrations=(*MIGRATIONS, Migration(2, "slow", "", slow)),
    )
    """
)


def test_a_killed_migration_leaves_the_original_and_the_next_open_migrates(
    old: Path, tmp_path: Path
) -> None:
    original = sha256(old)
    started = tmp_path / "migrating-now"
    child = subprocess.Popen([sys.executable, "-c", SLOW_UPGRADE, str(old), str(started)])
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert migrating_path(old).exists()
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert sha256(old) == original
    con = duckdb.connect(str(old), read_only=True)
    try:
        assert file_version(con) == 0
    finally:
        con.close()
    # The next open backs up and migrates again, removing the copy the kill left.
    con = open_warehouse(old, backup=copy_backup(tmp_path / "b"))
    try:
        assert file_version(con) == current_version()
        assert con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half_done'"
        ).fetchall() == [(0,)]
    finally:
        con.close()
    assert not migrating_path(old).exists()


def test_a_newer_warehouse_is_refused_and_an_unbacked_upgrade_too(old: Path) -> None:
    newer = old.with_name("newer.duckdb")
    con = open_warehouse(newer)
    con.execute("INSERT INTO meta.schema_version VALUES (99, now(), '9.9', 'future')")
    con.close()
    original = sha256(newer)
    for read_only in (False, True):
        with pytest.raises(NewerWarehouse, match="made by a newer EmpowerED\\+.*upgrade the"):
            open_warehouse(newer, read_only=read_only)
    assert sha256(newer) == original
    # Without a way to back it up first, an old file is not migrated.
    with pytest.raises(UpgradeNeeded):
        open_warehouse(old)
    # Read-only: opened as it is, never migrated.
    con = open_warehouse(old, read_only=True)
    try:
        assert file_version(con) == 0
    finally:
        con.close()


def test_the_command_line_backs_up_beside_the_file_then_upgrades(
    old: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from empowered.cli import app

    key_file = tmp_path / "w.keys"
    shutil.copy(os.environ["EMPOWERED_KEY_FILE"], key_file)
    monkeypatch.setenv("EMPOWERED_KEY_FILE", str(key_file))
    monkeypatch.setenv("EMPOWERED_BACKUP_KEY", encode_identity_key(bytes(range(32))))
    monkeypatch.delenv("EMPOWERED_BACKUP_DIR", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["user", "list", "--warehouse", str(old)])
    assert result.exit_code == 0, result.output
    [made] = list_backups(old.with_name(old.name + ".backups"))
    assert made.row_counts["app.users"] == 1
    con = duckdb.connect(str(old), read_only=True)
    try:
        assert file_version(con) == current_version()
    finally:
        con.close()
    # A file from a newer release: refused, exit 2, with what to do.
    con = duckdb.connect(str(old))
    con.execute("INSERT INTO meta.schema_version VALUES (99, now(), '9.9', 'future')")
    con.close()
    result = runner.invoke(app, ["school", "list", "--warehouse", str(old)])
    assert result.exit_code == 2
    assert "made by a newer EmpowerED+" in " ".join(result.output.split())
