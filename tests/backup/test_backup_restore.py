"""A backup of a school's warehouse, restored through ``empowered restore`` into a new file,
holds every raw, app and meta row, builds the same marts, and carries on where it was."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from backup_cli import key_file, run
from backup_fixtures import (
    BACKUP_KEY,
    BUILD_BOOKKEEPING,
    PASSWORD,
    contents,
    fingerprint,
    tables,
    warehouse_with_app_rows,
)

from empowered.access.audit import ViewedPupil, record, verify
from empowered.access.roles import Role
from empowered.access.users import add_user
from empowered.backup import BackupInfo, list_backups, take_backup
from empowered.keys import encode_identity_key
from empowered.views.pupil_note import save_note
from identity_keys import TEST_KEYS


@pytest.fixture(scope="module")
def school(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return warehouse_with_app_rows(built_warehouse, tmp_path_factory.mktemp("school"))


@pytest.fixture(scope="module")
def backed_up(school: Path, tmp_path_factory: pytest.TempPathFactory) -> BackupInfo:
    with duckdb.connect(str(school), read_only=True) as con:
        folder = tmp_path_factory.mktemp("backups") / "nightly"
        return take_backup(con, folder, TEST_KEYS, BACKUP_KEY)


@pytest.fixture(scope="module")
def restored_path(backed_up: BackupInfo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backup restored with the command a school would run, into a new folder."""
    folder = tmp_path_factory.mktemp("new-server")
    keys = key_file(folder / "kept.keys", backup_key=encode_identity_key(BACKUP_KEY))
    target = folder / "restored.duckdb"
    result = run(["restore", str(backed_up.path), "--warehouse", str(target)], keys)
    assert result.exit_code == 0, result.output
    assert "staging, core and marts rebuilt" in result.output
    return target


@pytest.fixture(scope="module")
def restored(restored_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(restored_path), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def original(school: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(school), read_only=True) as con:
        yield con


def test_every_raw_app_and_meta_row_comes_back(
    original: duckdb.DuckDBPyConnection, restored: duckdb.DuckDBPyConnection
) -> None:
    names = tables(original, ("raw", "app", "meta"))
    assert {"raw.canonical_pupils", "app.audit_log", "app.pupil_notes", "app.users"} <= set(names)
    assert original.execute("SELECT count(*) FROM app.pupil_notes").fetchone() == (1,)
    for name in names:
        if name in BUILD_BOOKKEEPING:  # the restore's own build adds its runs and checks
            assert set(contents(original, name)) <= set(contents(restored, name)), name
        else:
            assert fingerprint(restored, name) == fingerprint(original, name), name


def test_the_restore_builds_the_same_marts_from_raw(
    original: duckdb.DuckDBPyConnection, restored: duckdb.DuckDBPyConnection
) -> None:
    built = tables(original, ("staging", "core", "marts", "quarantine"))
    assert len(built) > 50 and built == tables(restored, ("staging", "core", "marts", "quarantine"))
    for name in built:
        expected = fingerprint(original, name, rounded=True)
        assert fingerprint(restored, name, rounded=True) == expected, name


def test_the_restored_warehouse_carries_on_where_it_was(
    original: duckdb.DuckDBPyConnection, restored_path: Path, tmp_path: Path
) -> None:
    """Sequences continue after the saved values (no id handed out twice) and the audit
    log's hash chain is whole."""
    copy = tmp_path / "carry-on.duckdb"
    shutil.copy(restored_path, copy)
    [(last_event,)] = original.execute("SELECT max(event_id) FROM app.audit_log").fetchall()
    [(last_user,)] = original.execute("SELECT max(user_id) FROM app.users").fetchall()
    with duckdb.connect(str(copy)) as con:
        assert verify(con).broken is None
        user = add_user(con, "after.restore", PASSWORD, Role.TRUST_ADMIN)
        assert user.user_id == last_user + 1
        [(pupil,)] = con.execute("SELECT min(pupil_key) FROM core.dim_pupil").fetchall()
        record(con, ViewedPupil(pupil_key=pupil, page="/pupils/y"), user=user)
        save_note(con, pupil, "A second note after the restore.", user_id=user.user_id)
        [(event,)] = con.execute("SELECT max(event_id) FROM app.audit_log").fetchall()
        assert event == last_event + 1
        assert verify(con).broken is None


def test_the_backup_and_its_record_are_private_and_say_what_they_hold(
    backed_up: BackupInfo, original: duckdb.DuckDBPyConnection
) -> None:
    folder = backed_up.path.parent
    assert folder.stat().st_mode & 0o777 == 0o700
    record = backed_up.path.with_name(backed_up.path.name + ".json")
    assert {p.name for p in folder.iterdir()} >= {backed_up.path.name, record.name}
    assert not list(folder.glob("*.partial"))
    for path in (backed_up.path, record):
        assert path.stat().st_mode & 0o777 == 0o600
        # Encrypted, and the record names no one: the account added is in neither.
        assert b"backup.senco" not in path.read_bytes()
    [(rows,)] = original.execute("SELECT count(*) FROM raw.canonical_attendance").fetchall()
    assert backed_up.row_counts["raw.canonical_attendance"] == rows
    assert list_backups(folder) == [backed_up]


def test_a_restore_never_overwrites_a_warehouse(backed_up: BackupInfo, restored_path: Path) -> None:
    before = restored_path.stat().st_mtime_ns
    keys = key_file(restored_path.parent / "again.keys", backup_key=encode_identity_key(BACKUP_KEY))
    result = run(["restore", str(backed_up.path), "--warehouse", str(restored_path)], keys)
    assert result.exit_code == 1
    assert "already exists" in result.output and "Nothing was restored" in result.output
    assert restored_path.stat().st_mtime_ns == before
