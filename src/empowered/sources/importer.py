"""Importing a folder of canonical CSV files as one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from empowered.sources.canonical import ENTITIES
from empowered.sources.landing import LandedBatch, ensure_raw_tables, land_csv


@dataclass
class ImportResult:
    batches: list[LandedBatch] = field(default_factory=list)
    unrecognised_files: list[str] = field(default_factory=list)

    @property
    def rows_landed(self) -> int:
        return sum(b.rows for b in self.batches)

    def touched_raw_tables(self) -> set[str]:
        touched = {ENTITIES[b.entity].raw_table for b in self.batches if not b.already_loaded}
        if any(b.new_pupils for b in self.batches):
            touched.add("raw.pupil_pseudonym")
        return touched


def import_canonical_folder(
    con: duckdb.DuckDBPyConnection, folder: Path, *, pseudonym_secret: str
) -> ImportResult:
    """Land every canonical file in ``folder``; all or nothing."""
    result = ImportResult()
    ensure_raw_tables(con)
    con.execute("BEGIN TRANSACTION")
    try:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() != ".csv":
                continue
            entity = ENTITIES.get(path.stem.lower())
            if entity is None:
                result.unrecognised_files.append(path.name)
                continue
            result.batches.append(
                land_csv(con, path, entity, source="canonical", pseudonym_secret=pseudonym_secret)
            )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return result
