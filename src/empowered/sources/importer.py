"""Importing files as one transaction: all of an import lands, or none of it.

Canonical CSV files take the fast path (DuckDB reads them directly); every other format
goes through its reader, which turns source rows into canonical records. A file already
imported (same SHA-256) is skipped, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from empowered.keys import Keys
from empowered.sources.canonical import ENTITIES
from empowered.sources.errors import SourceError
from empowered.sources.landing import (
    LandedBatch,
    already_landed,
    ensure_raw_tables,
    file_sha256,
    land_csv,
    prepare_records,
    write_batch,
)
from empowered.sources.records import Reader, SkippedRow, records_by_entity
from empowered.sources.scope import UNRESTRICTED, ImportLimits, check_landed
from empowered.warehouse.connection import in_transaction

DEFAULT_MAX_BYTES = 200 * 1024 * 1024

# Given a file and the --source the user chose, the reader to use (None: canonical CSV).
ReaderChooser = Callable[[Path, str], Reader | None]


@dataclass
class FileOutcome:
    path: Path
    source: str
    batches: list[LandedBatch] = field(default_factory=list)
    already_imported: bool = False
    skipped: list[SkippedRow] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    files: list[FileOutcome] = field(default_factory=list)
    unrecognised_files: list[str] = field(default_factory=list)

    @property
    def batches(self) -> list[LandedBatch]:
        return [b for f in self.files for b in f.batches]

    @property
    def batch_ids(self) -> list[int]:
        return [b.batch_id for b in self.batches if b.batch_id is not None]

    @property
    def rows_landed(self) -> int:
        return sum(b.rows for b in self.batches)

    def touched_raw_tables(self) -> set[str]:
        touched = {ENTITIES[b.entity].raw_table for b in self.batches if not b.already_loaded}
        if any(b.new_pupils for b in self.batches):
            touched.add("raw.pupil_pseudonym")
        return touched


def expand(paths: Iterable[Path]) -> list[Path]:
    """Folders become the files in them (sorted, so imports are reproducible)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file())
        elif path.exists():
            files.append(path)
        else:
            raise SourceError(str(path), "does not exist")
    return files


def is_canonical(path: Path) -> bool:
    """A canonical CSV, known by its name (pupils.csv, observations.csv...)."""
    return path.suffix.lower() == ".csv" and path.stem.lower() in ENTITIES


def _import_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    reader: Reader | None,
    *,
    keys: Keys,
    max_bytes: int,
) -> FileOutcome:
    if path.stat().st_size > max_bytes:
        raise SourceError(
            path.name,
            f"is {path.stat().st_size:,} bytes, over the {max_bytes:,}-byte limit for one file "
            "(EMPOWERED_MAX_IMPORT_BYTES sets it)",
        )
    file_hash = file_sha256(path)
    if reader is None:
        entity = ENTITIES[path.stem.lower()]
        batch = land_csv(con, path, entity, source="canonical", keys=keys)
        return FileOutcome(path, "canonical", [batch], already_imported=batch.already_loaded)
    if already_landed(con, file_hash):
        return FileOutcome(path, reader.name, already_imported=True)
    read = reader.read(path)
    outcome = FileOutcome(
        path,
        read.source,
        skipped=list(read.skipped),
        unknown_columns=list(read.unknown_columns),
        warnings=list(read.warnings),
    )
    for entity_name, records in records_by_entity(read.records):
        outcome.batches.append(
            write_batch(
                con,
                prepare_records(
                    path.name, file_hash, read.source, ENTITIES[entity_name], records, keys=keys
                ),
            )
        )
    return outcome


def import_files(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    *,
    keys: Keys,
    choose_reader: ReaderChooser,
    source: str = "auto",
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: ImportLimits = UNRESTRICTED,
) -> ImportResult:
    """Land every file (folders are expanded) in one transaction. A row outside
    ``limits`` (checked once everything has landed, on the canonical rows) rolls it all
    back and raises ``ImportRefused``."""
    result = ImportResult()
    ensure_raw_tables(con)
    files = expand(paths)
    # Inside a caller's transaction (``imports.run_import``: the landing and its build
    # together), that transaction is the one.
    own = not in_transaction(con)
    if own:
        con.execute("BEGIN TRANSACTION")
    try:
        for path in files:
            if path.name == "manifest.json" or path.name.startswith("."):
                continue
            if source in ("auto", "canonical") and is_canonical(path):
                reader = None
            else:
                reader = choose_reader(path, source)
                if reader is None:
                    result.unrecognised_files.append(path.name)
                    continue
            result.files.append(_import_file(con, path, reader, keys=keys, max_bytes=max_bytes))
        check_landed(con, result.batches, limits)
    except BaseException:
        if own:
            con.execute("ROLLBACK")
        raise
    if own:
        con.execute("COMMIT")
    return result


def import_canonical_folder(
    con: duckdb.DuckDBPyConnection, folder: Path, *, keys: Keys
) -> ImportResult:
    """Land a folder of canonical CSV files; files of other kinds are listed, not read."""
    return import_files(
        con,
        [folder],
        keys=keys,
        choose_reader=lambda path, source: None,
        source="canonical",
    )
