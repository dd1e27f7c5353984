"""Restoring a backup into a new warehouse file, and verifying one by restoring it aside.

The checks come before anything is made: the target must not exist, the record beside the
backup must be there, the keys in force must be the ones the backup was made under, and
the file's SHA-256 must match its record. Then the archive is decrypted (every chunk
authenticated before use) into ``<target>.restoring``: tables made from their saved DDL,
sequences set to continue after their saved values, rows loaded and counted against the
manifest, and staging, core and marts built from raw. Only when all of that is well is the
file renamed to the target; any failure removes it, so a failed restore leaves nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import duckdb

from empowered.backup import files
from empowered.backup.archive import OpeningReader, check_backup_key, read_header
from empowered.backup.errors import BackupProblem, damaged
from empowered.backup.manifest import (
    MANIFEST_NAME,
    Manifest,
    SequenceValue,
    Sidecar,
    TableCopy,
    check_keys,
    parse_utc,
    sidecar_path,
)
from empowered.backup.snapshot import SCHEMAS, columns, ident, quoted, sql
from empowered.keys import Keys
from empowered.settings import get_settings
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.runner import ProgressCallback
from empowered.warehouse.upgrade import migrate_restored

_READ_BYTES = 1024 * 1024


@dataclass(frozen=True)
class RestoreReport:
    warehouse: Path
    backup_created_at: datetime
    row_counts: dict[str, int]
    seconds: float
    build_seconds: float

    @property
    def tables(self) -> int:
        return len(self.row_counts)

    @property
    def rows(self) -> int:
        return sum(self.row_counts.values())


@dataclass(frozen=True)
class VerifyReport:
    backup: Path
    ok: bool
    problem: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def restore_backup(
    backup: Path,
    warehouse: Path,
    keys: Keys,
    backup_key: bytes,
    *,
    progress: ProgressCallback | None = None,
) -> RestoreReport:
    """Restore ``backup`` into the new warehouse file ``warehouse`` (refused if it exists)."""
    started = time.monotonic()
    record = _checked_record(backup, warehouse, keys)
    restoring = warehouse.with_name(warehouse.name + ".restoring")
    work = warehouse.with_name(warehouse.name + ".restoring-work")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    _remove_database(restoring)  # both left by a restore that was killed
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    try:
        manifest, build_seconds = _restore_into(backup, restoring, work, keys, backup_key, progress)
        os.chmod(restoring, 0o600)  # it holds pupils' records, as the original did
        os.replace(restoring, warehouse)
        files.sync_folder(warehouse.parent)
    except (OSError, duckdb.IOException) as error:
        _remove_database(restoring)
        raise BackupProblem(
            f"the restore could not be written in {warehouse.parent} ({error}). Nothing was"
            " kept and the backup is unchanged: free some space, or restore somewhere else."
        ) from error
    except BaseException:
        _remove_database(restoring)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RestoreReport(
        warehouse,
        parse_utc(record.created_at),
        manifest.row_counts,
        time.monotonic() - started,
        build_seconds,
    )


def verify_backup(
    backup: Path, keys: Keys, backup_key: bytes, *, work_dir: Path | None = None
) -> VerifyReport:
    """Restore ``backup`` into a temporary folder and compare what comes back with its
    manifest; the temporary warehouse is removed whatever happens."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="empowered-verify-", dir=work_dir) as folder:
        try:
            report = restore_backup(backup, Path(folder) / "verify.duckdb", keys, backup_key)
        except BackupProblem as problem:
            return VerifyReport(backup, False, str(problem), seconds=time.monotonic() - started)
    return VerifyReport(backup, True, None, report.row_counts, time.monotonic() - started)


def _checked_record(backup: Path, warehouse: Path, keys: Keys) -> Sidecar:
    """The checks that need no key and write nothing, cheapest first."""
    for existing in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        if existing.exists():
            raise BackupProblem(
                f"{existing} already exists: a restore makes a new warehouse file and never"
                " overwrites one. Choose a new file name (or move the old file away first)."
                " Nothing was restored."
            )
    if not backup.is_file():
        raise BackupProblem(f"there is no backup file at {backup}. Nothing was restored.")
    record = Sidecar.read(sidecar_path(backup))
    check_keys(record.identity_key_ids, record.pseudonym_fingerprint, keys)
    if file_sha256(backup) != record.sha256:
        raise BackupProblem(
            "the backup file is damaged: its checksum does not match the one recorded when it"
            " was made. Nothing was restored; use another backup."
        )
    return record


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _restore_into(
    backup: Path,
    restoring: Path,
    work: Path,
    keys: Keys,
    backup_key: bytes,
    progress: ProgressCallback | None,
) -> tuple[Manifest, float]:
    with backup.open("rb") as source, _opened(source, backup_key) as (reader, tar):
        members = iter(tar)
        manifest = _read_manifest(tar, next(members, None))
        check_keys(manifest.identity_key_ids, manifest.pseudonym_fingerprint, keys)
        settings = get_settings()
        con = open_warehouse(
            restoring, threads=settings.duckdb_threads, memory_limit=settings.duckdb_memory_limit
        )
        try:
            _create(con, manifest)
            _load_all(con, tar, members, manifest, work)
            reader.finish()
            # A backup made by an older release: its tables take today's layout.
            migrate_restored(con, manifest.schema_version)
            _compare(con, manifest.tables, "loaded")
            build_started = time.monotonic()
            result = build_duckdb(con, progress=progress)
            if not result.ok:
                failed = ", ".join(f.model.name for f in result.failures())
                raise BackupProblem(
                    f"the restored raw data did not build ({failed} failed). Nothing was kept;"
                    " the backup itself is unchanged. Report this with `empowered build` output."
                )
            build_seconds = time.monotonic() - build_started
            kept = [t for t in manifest.tables if t.name.split(".")[0] != "meta"]
            _compare(con, kept, "built")  # the build never changes raw or app
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return manifest, build_seconds


@contextmanager
def _opened(
    source: IO[bytes], backup_key: bytes
) -> Iterator[tuple[OpeningReader, tarfile.TarFile]]:
    header = read_header(source)
    check_backup_key(header, backup_key)
    reader = OpeningReader(source, header, backup_key)
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            yield reader, tar
    except tarfile.TarError as error:
        raise damaged("its archive cannot be read") from error


def _read_manifest(tar: tarfile.TarFile, member: tarfile.TarInfo | None) -> Manifest:
    if member is None or member.name != MANIFEST_NAME or not member.isfile():
        raise damaged("its manifest is missing")
    handle = tar.extractfile(member)
    assert handle is not None
    return Manifest.from_json(handle.read())


def _create(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> None:
    """Tables exactly as they were (types, keys, defaults), and sequences first, since a
    column's default may call one. The empty tables open_warehouse made in these schemas
    go first: the file must hold what the backup held and no more (a layout version
    stamped on the new file would claim a layout its tables do not have)."""
    made = con.execute(sql("backed_up_tables"), [list(SCHEMAS)]).fetchall()
    for schema, table, _ in made:
        con.execute(f"DROP TABLE {quoted(f'{schema}.{table}')}")
    schemas = {
        n.split(".")[0] for n in (*manifest.row_counts, *(s.name for s in manifest.sequences))
    }
    for schema in sorted(schemas | set(SCHEMAS)):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted(schema)}")
    for sequence in manifest.sequences:
        con.execute(_sequence_ddl(sequence))
    for table in manifest.tables:
        con.execute(table.ddl)


def _sequence_ddl(sequence: SequenceValue) -> str:
    cycle = "CYCLE" if sequence.cycle else "NO CYCLE"
    return (
        f"CREATE OR REPLACE SEQUENCE {quoted(sequence.name)}"
        f" INCREMENT BY {int(sequence.increment_by)} MINVALUE {int(sequence.min_value)}"
        f" MAXVALUE {int(sequence.max_value)} START {int(sequence.next_value)} {cycle}"
    )


def _load_all(
    con: duckdb.DuckDBPyConnection,
    tar: tarfile.TarFile,
    members: Iterator[tarfile.TarInfo],
    manifest: Manifest,
    work: Path,
) -> None:
    by_file = {t.file: t for t in manifest.tables}
    loaded: set[str] = set()
    for member in members:
        table = by_file.get(member.name)
        if table is None or not member.isfile() or member.name in loaded:
            raise damaged(f"it holds an unexpected part ({member.name!r})")
        copy = work / table.file
        handle = tar.extractfile(member)
        assert handle is not None
        with copy.open("wb") as out:
            shutil.copyfileobj(handle, out, _READ_BYTES)
        _load(con, table.name, copy)
        copy.unlink()
        loaded.add(member.name)
    missing = sorted(set(by_file) - loaded)
    if missing:
        raise damaged(f"{len(missing)} of its tables are missing ({', '.join(missing[:3])})")


def _load(con: duckdb.DuckDBPyConnection, name: str, parquet: Path) -> None:
    # Cast each column back to its declared type (128-bit integers travel as text).
    select = ", ".join(
        f"CAST({ident(c)} AS {kind}) AS {ident(c)}" for c, kind in columns(con, name)
    )
    path = str(parquet).replace("'", "''")
    con.execute(f"INSERT INTO {quoted(name)} SELECT {select} FROM read_parquet('{path}')")


def _compare(con: duckdb.DuckDBPyConnection, tables: list[TableCopy], when: str) -> None:
    differences = []
    for table in tables:
        [(rows,)] = con.execute(f"SELECT count(*) FROM {quoted(table.name)}").fetchall()
        if rows != table.rows:
            differences.append(
                f"{table.name} has {rows:,} rows where the backup holds {table.rows:,}"
            )
    if differences:
        raise BackupProblem(
            f"the restored warehouse does not match the backup once {when}: "
            + "; ".join(differences)
            + ". Nothing was kept; use another backup."
        )


def _remove_database(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
