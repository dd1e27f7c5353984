"""Where backups live: their names, private files written whole or not at all, the lock
that keeps two backups out of one folder, and the listing read from the sidecars."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from empowered.backup.errors import BackupProblem
from empowered.backup.manifest import Sidecar, parse_utc, sidecar_path

SUFFIX = ".backup"
PARTIAL = ".partial"
WORK_PREFIX = ".empowered-backup-"
_LOCK = ".empowered-backup.lock"
_NAME = re.compile(r"^empowered-\d{8}T\d{6}Z(-\d+)?\.backup$")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: datetime
    size_bytes: int
    sha256: str
    row_counts: dict[str, int]
    seconds: float

    @classmethod
    def of(cls, path: Path, sidecar: Sidecar) -> BackupInfo:
        return cls(
            path,
            parse_utc(sidecar.created_at),
            sidecar.size_bytes,
            sidecar.sha256,
            sidecar.row_counts,
            sidecar.seconds,
        )


def private_folder(folder: Path) -> Path:
    """``folder``, made 0700 when it is missing (an existing folder keeps its mode)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def new_backup_path(folder: Path, at: datetime) -> Path:
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"empowered-{stamp}{SUFFIX}"
    number = 1
    while path.exists() or sidecar_path(path).exists():  # two backups in one second
        number += 1
        path = folder / f"empowered-{stamp}-{number}{SUFFIX}"
    return path


def partial(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL)


def private_file(path: Path) -> int:
    """A new file only its owner can read, as a descriptor (refuses to follow an old one)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def write_whole(path: Path, text: str) -> None:
    """``path`` written beside as a partial, synced, then renamed into place."""
    part = partial(path)
    with os.fdopen(private_file(part), "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(part, path)


def sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Only one backup at a time writes into a folder; while it holds the lock, any
    partial file there is left by a backup that was killed."""
    fd = os.open(folder / _LOCK, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BackupProblem(
                f"another backup is being written to {folder} right now: wait for it to"
                " finish. No backup was made."
            ) from error
        yield
    finally:
        os.close(fd)


def remove_stale(folder: Path) -> list[Path]:
    """Remove what killed backups left (call with the folder lock held): partial files,
    their work folders, and a record whose backup never arrived."""
    removed: list[Path] = []
    for part in folder.glob(f"empowered-*{SUFFIX}*{PARTIAL}"):
        part.unlink(missing_ok=True)
        removed.append(part)
    for record in folder.glob(f"empowered-*{SUFFIX}.json"):
        backup = record.with_name(record.name.removesuffix(".json"))
        if not backup.exists() and partial(backup) in removed:
            record.unlink(missing_ok=True)
            removed.append(record)
    for work in folder.glob(f"{WORK_PREFIX}*"):
        if work.is_dir():
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
    return removed


def list_backups(folder: Path) -> list[BackupInfo]:
    """The whole backups in ``folder``, oldest first, read from their sidecars (a partial
    file, or a record without its backup, is not a backup)."""
    found = []
    for path in sorted(folder.glob(f"empowered-*{SUFFIX}")):
        record = sidecar_path(path)
        if _NAME.match(path.name) and record.exists():
            try:
                found.append(BackupInfo.of(path, Sidecar.read(record)))
            except BackupProblem:
                continue  # an unreadable record: listed by nothing, restore says why
    return sorted(found, key=lambda b: (b.created_at, b.path.name))
