"""Faults: a damaged, cut or forged backup file, the wrong keys, a missing record, and a
backup process killed while it writes. Each is refused in plain words and leaves nothing
made; the warehouse is never changed."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from backup_fixtures import BACKUP_KEY, file_sha256, flip_byte

import empowered
from empowered.backup import (
    BackupInfo,
    BackupProblem,
    archive,
    list_backups,
    restore_backup,
    take_backup,
)
from empowered.backup.archive import OpeningReader, SealingWriter, read_header
from empowered.backup.manifest import Manifest
from empowered.keys import Keys
from identity_keys import TEST_KEYS


@pytest.fixture(scope="module")
def backup(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> BackupInfo:
    """A backup of the small trust in 64 KiB chunks, so that a change late in the file is
    found only after the restore has begun loading tables."""
    with (
        pytest.MonkeyPatch.context() as patch,
        duckdb.connect(str(built_warehouse), read_only=True) as con,
    ):
        patch.setattr(archive, "CHUNK_BYTES", 64 * 1024)
        return take_backup(con, tmp_path_factory.mktemp("faults"), TEST_KEYS, BACKUP_KEY)


@pytest.fixture
def copy(backup: BackupInfo, tmp_path: Path) -> Path:
    """The backup and its record, copied where a test may damage them."""
    target = tmp_path / "kept" / backup.path.name
    target.parent.mkdir()
    shutil.copy(backup.path, target)
    shutil.copy(_record(backup.path), _record(target))
    return target


def _record(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _rerecord(path: Path) -> None:
    """Make the record's checksum fit the (changed) file, as a forger would, so that the
    encryption's own authentication is what must catch the change."""
    record = json.loads(_record(path).read_text())
    record["sha256"] = file_sha256(path)
    _record(path).write_text(json.dumps(record))


def _refused(
    path: Path, target: Path, match: str, keys: Keys = TEST_KEYS, key: bytes = BACKUP_KEY
) -> None:
    with pytest.raises(BackupProblem, match=match) as refusal:
        restore_backup(path, target, keys, key)
    assert "Nothing was restored" in str(refusal.value)
    # Nothing made: no warehouse, no half-restored file, no work folder.
    assert list(target.parent.iterdir()) == []


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "new"
    folder.mkdir()
    return folder / "restored.duckdb"


def test_a_flipped_byte_fails_the_checksum(copy: Path, target: Path) -> None:
    flip_byte(copy, copy.stat().st_size // 2)
    _refused(copy, target, "damaged: its checksum does not match the one recorded")


def test_a_flipped_byte_is_caught_by_the_encryption_too(copy: Path, target: Path) -> None:
    """With the record forged to fit, the change is found while loading (after the restore
    began writing its .restoring file): the half-made file is removed."""
    flip_byte(copy, copy.stat().st_size * 3 // 4)
    _rerecord(copy)
    _refused(copy, target, r"damaged: part \d\d+ does not authenticate")


def test_a_file_cut_short_is_refused(copy: Path, target: Path) -> None:
    with copy.open("r+b") as handle:
        handle.truncate(copy.stat().st_size - 1000)
    _refused(copy, target, "checksum does not match")
    _rerecord(copy)
    _refused(copy, target, "the backup file is damaged")


def test_a_wrong_backup_key_is_refused(copy: Path, target: Path) -> None:
    _refused(
        copy, target, "encrypted with backup key .* but the backup key in force is", key=bytes(32)
    )


def test_keys_that_cannot_read_the_backup_are_refused_before_anything_is_written(
    copy: Path, target: Path
) -> None:
    rotated = Keys(TEST_KEYS.pseudonym_key, TEST_KEYS.session_secret, (bytes(32),))
    _refused(copy, target, "encrypted with identity key", keys=rotated)
    other = replace(TEST_KEYS, pseudonym_key="another-pseudonym-key")
    _refused(copy, target, "different pseudonym key", keys=other)


def test_a_backup_without_its_record_is_refused(copy: Path, target: Path) -> None:
    _record(copy).unlink()
    _refused(copy, target, "record .*json is missing")


def test_a_restore_whose_rows_do_not_match_the_manifest_says_what_differs(
    copy: Path, target: Path
) -> None:
    """A backup re-sealed (with the right key) around a manifest claiming one more pupil
    than the archive holds: the count check names the table and both counts."""
    members: list[tuple[tarfile.TarInfo, bytes]] = []
    with copy.open("rb") as source:
        reader = OpeningReader(source, read_header(source), BACKUP_KEY)
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                handle = tar.extractfile(member)
                assert handle is not None
                members.append((member, handle.read()))
    manifest = Manifest.from_json(members[0][1])
    tables = [
        replace(t, rows=t.rows + 1) if t.name == "raw.canonical_pupils" else t
        for t in manifest.tables
    ]
    members[0] = (members[0][0], replace(manifest, tables=tables).to_json().encode())
    with copy.open("wb") as out:
        sealer = SealingWriter(out, BACKUP_KEY)
        with tarfile.open(fileobj=sealer, mode="w|") as tar:
            for member, data in members:
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
        sealer.close()
    _rerecord(copy)
    with pytest.raises(
        BackupProblem, match=r"raw\.canonical_pupils has [\d,]+ rows where the backup holds"
    ):
        restore_backup(copy, target, TEST_KEYS, BACKUP_KEY)
    assert list(target.parent.iterdir()) == []


_SLOW_BACKUP = """
import sys, time
from pathlib import Path
import duckdb
from empowered.backup import snapshot, take_backup
from identity_keys import TEST_KEYS

copy_table = snapshot.Snapshot.copy_table

def slowly(self, table, target):
    # Widen the window in which the backup is being written, so the kill lands in it.
    copy_table(self, table, target)
    time.sleep(0.05)

snapshot.Snapshot.copy_table = slowly
con = duckdb.connect(sys.argv[1], read_only=True)
take_backup(con, Path(sys.argv[2]), TEST_KEYS, bytes(range(32, 64)))
"""


def _child_env() -> dict[str, str]:
    """A child process's environment that imports this checkout and the test helpers."""
    tests = Path(__file__).parents[1]
    source = Path(empowered.__file__).parents[1]
    return {**os.environ, "PYTHONPATH": f"{source}{os.pathsep}{tests}"}


@pytest.fixture
def school(built_warehouse: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "school.duckdb"
    shutil.copy(built_warehouse, path)
    yield path


def test_a_backup_killed_while_writing_leaves_no_backup_and_the_warehouse_as_it_was(
    school: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    before = file_sha256(school)
    env = _child_env()
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_BACKUP, str(school), str(folder)], env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not list(folder.glob("*.backup.partial")) and child.poll() is None:
            assert time.monotonic() < deadline, "the backup never started writing"
            time.sleep(0.01)
        time.sleep(0.3)  # a few tables into the file
        assert child.poll() is None, "the backup finished before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert [p.name for p in folder.glob("*.backup.partial")]  # it was killed mid-write
    assert not list(folder.glob("*.backup")) and list_backups(folder) == []
    assert file_sha256(school) == before
    assert not school.with_name(school.name + ".wal").exists()

    with duckdb.connect(str(school), read_only=True) as con:
        info = take_backup(con, folder, TEST_KEYS, BACKUP_KEY)
    left = sorted(
        p.name for p in folder.iterdir() if not p.name.startswith(".empowered-backup.lock")
    )
    assert left == [info.path.name, info.path.name + ".json"]  # partials and work folder gone
    assert list_backups(folder) == [info]


_SMALL_DISK = """
import resource, signal, sys
from pathlib import Path
import duckdb
from empowered.backup import BackupProblem, take_backup
from identity_keys import TEST_KEYS

# A disk that fills up after a megabyte: writing past it fails with EFBIG, as ENOSPC would.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))
con = duckdb.connect(sys.argv[1], read_only=True)
try:
    take_backup(con, Path(sys.argv[2]), TEST_KEYS, bytes(range(32, 64)))
except BackupProblem as problem:
    print(problem)
    sys.exit(1)
"""


def test_a_backup_that_runs_out_of_disk_says_so_and_leaves_nothing(
    school: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    before = file_sha256(school)
    env = _child_env()
    done = subprocess.run(
        [sys.executable, "-c", _SMALL_DISK, str(school), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert f"No backup was made: the disk holding {folder} is full" in done.stdout
    assert "The warehouse is unchanged" in done.stdout
    assert [p.name for p in folder.iterdir()] == [".empowered-backup.lock"]
    assert file_sha256(school) == before
