"""Taking a backup: the snapshot, streamed into one encrypted file with its clear record.

Each table is copied to a Parquet file in a private work folder beside the backup, added
to the archive and deleted at once, so the plain copy on disk is never more than one
table. The archive is written as ``<name>.backup.partial``, synced, and renamed only when
whole (after its record ``<name>.backup.json``): a backup killed at any moment leaves only
partial files, which listing and restore ignore and the next backup removes.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from empowered.backup import files
from empowered.backup.archive import SealingWriter
from empowered.backup.errors import BackupProblem
from empowered.backup.files import BackupInfo
from empowered.backup.manifest import (
    MANIFEST_NAME,
    Manifest,
    Sidecar,
    empowered_version,
    identity_key_ids,
    pseudonym_fingerprint,
    sidecar_path,
    utc_text,
)
from empowered.backup.snapshot import Snapshot, snapshot
from empowered.crypto import key_id
from empowered.keys import Keys


def take_backup(
    con: duckdb.DuckDBPyConnection,
    to_dir: Path,
    keys: Keys,
    backup_key: bytes,
    *,
    now: datetime | None = None,
) -> BackupInfo:
    """Back the warehouse behind ``con`` up into ``to_dir`` (made 0700 when missing); the
    warehouse is only read, and may go on being written by others meanwhile."""
    started = time.monotonic()
    at = (now or datetime.now(UTC)).astimezone(UTC)
    folder = files.private_folder(to_dir)
    with files.folder_lock(folder):
        files.remove_stale(folder)
        path = files.new_backup_path(folder, at)
        part = files.partial(path)
        work = Path(tempfile.mkdtemp(prefix=files.WORK_PREFIX, dir=folder))
        try:
            with snapshot(con) as snap:
                manifest = _manifest(snap, keys, backup_key, at)
                sha256 = _write_archive(snap, manifest, part, work, backup_key)
            size = part.stat().st_size
            seconds = time.monotonic() - started
            record = Sidecar.of(manifest, path, size, sha256, seconds)
            files.write_whole(sidecar_path(path), record.to_json())
            info = BackupInfo.of(path, record)
            os.replace(part, path)
            files.sync_folder(folder)
        except (OSError, duckdb.IOException) as error:
            raise _not_written(folder, error) from error
        finally:
            shutil.rmtree(work, ignore_errors=True)
            part.unlink(missing_ok=True)
    return info


def _manifest(snap: Snapshot, keys: Keys, backup_key: bytes, at: datetime) -> Manifest:
    return Manifest(
        created_at=utc_text(at),
        empowered_version=empowered_version(),
        schema_version=snap.schema_version,
        identity_key_ids=identity_key_ids(keys),
        pseudonym_fingerprint=pseudonym_fingerprint(keys.pseudonym_key),
        backup_key_id=key_id(backup_key),
        tables=snap.tables,
        sequences=snap.sequences,
    )


def _write_archive(
    snap: Snapshot, manifest: Manifest, part: Path, work: Path, backup_key: bytes
) -> str:
    """Stream the manifest, then each table, through tar and the sealing writer into
    ``part``; returns the SHA-256 of the file written."""
    with os.fdopen(files.private_file(part), "wb") as target:
        sealer = SealingWriter(target, backup_key)
        with tarfile.open(fileobj=sealer, mode="w|") as tar:
            _add(tar, MANIFEST_NAME, io.BytesIO(manifest.to_json().encode()))
            for table in manifest.tables:
                copy = work / table.file
                snap.copy_table(table, copy)
                with copy.open("rb") as handle:
                    _add(tar, table.file, handle, copy.stat().st_size)
                copy.unlink()
        sealer.close()
        target.flush()
        os.fsync(target.fileno())
    return sealer.sha256.hexdigest()


def _add(
    tar: tarfile.TarFile, name: str, data: io.IOBase | io.BufferedReader, size: int | None = None
) -> None:
    info = tarfile.TarInfo(name)
    if size is None:
        assert isinstance(data, io.BytesIO)
        size = len(data.getbuffer())
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, data)


def _not_written(folder: Path, error: Exception) -> BackupProblem:
    full = isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    full = full or any(w in str(error).lower() for w in ("space", "too large"))
    why = f"the disk holding {folder} is full" if full else f"it could not be written ({error})"
    return BackupProblem(
        f"No backup was made: {why}. The warehouse is unchanged and older backups are kept;"
        " free some space or choose another folder, then back up again."
    )
