"""The lake: the warehouse's tables as Parquet files in a folder that Spark and DuckDB both
read, with a log of snapshots so that a reader always sees whole builds.

Layout under the lake's root::

    _log/00000000000000000007.json   one snapshot per commit: every table and its files
    raw/canonical_observations/<uuid>.parquet          sources, a file per landing
    marts/pupil_week/<build>/_school=100001/part-....parquet   models, a folder per build

Data files are written once under names nobody else uses, and never changed; a table
changes only when a snapshot naming other files is committed. A commit writes the next
numbered log entry with an exclusive create, so two writers (the app landing raw rows,
a Spark job committing models) cannot overwrite each other: the one that loses reads the
newer snapshot and tries again. A build killed part-way commits nothing, so readers go
on seeing the previous tables; the files it wrote are removed by ``vacuum`` later.

The lake is a folder path: a local disk, a network share, or an object store mounted as a
folder (``/dbfs/...`` on Databricks, ``/lakehouse/default/Files/...`` in Fabric, blobfuse
or s3fs elsewhere), which is how both engines reach it without extra extensions.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG = "_log"
# Snapshots kept by ``vacuum`` (with every file they name): a reader that opened one of
# them a moment ago can still read it while a newer build commits.
KEEP_SNAPSHOTS = 3
# Files younger than this are never removed: a writer may be about to commit them.
GRACE_SECONDS = 3600.0


class LakeError(RuntimeError):
    pass


@dataclass(frozen=True)
class TableEntry:
    """One table of a snapshot."""

    # Parquet files, relative to the lake's root (none for a view).
    files: tuple[str, ...]
    columns: tuple[str, ...]
    rows: int
    # Changes whenever the contents change: a digest for sources, the build for models.
    token: str
    # Folder columns the files are split by (added for the folders only: every column
    # of the table is in every file, so a reader need not know them).
    partitioned_by: tuple[str, ...] = ()
    # A model kept as a view: no files; readers run its SQL over the tables it reads.
    view: bool = False
    # Sources landed by batch: batch id -> [rows, digest, file].
    batches: Mapping[str, list[Any]] = field(default_factory=dict)
    # Models: a digest of the SQL that made it, and the token of each table it read.
    sql_digest: str = ""
    built_from: Mapping[str, str] = field(default_factory=dict)
    # Models: row count and an order-free sum of row hashes, to tell a rebuild that came
    # out the same (empty: not known).
    digest: str = ""


@dataclass(frozen=True)
class Snapshot:
    version: int
    tables: Mapping[str, TableEntry]
    # Build records (model runs and check results), newest last: [build id, file].
    builds: tuple[tuple[str, str], ...] = ()
    committed_at: float = 0.0
    # The sources as the models' tables were last built from them (empowered.warehouse.spark
    # works out the next build's changes from it): table -> its token, and for a table
    # landed by batch each batch's [rows, digest].
    sources_built: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def with_tables(self, tables: Mapping[str, TableEntry]) -> Snapshot:
        return dataclasses.replace(self, tables={**self.tables, **tables})

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": self.version,
                "committed_at": self.committed_at,
                "builds": [list(b) for b in self.builds],
                "sources_built": dict(sorted(self.sources_built.items())),
                "tables": {
                    name: dataclasses.asdict(entry) for name, entry in sorted(self.tables.items())
                },
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        data = json.loads(text)
        tables = {}
        for name, raw in data["tables"].items():
            raw["files"] = tuple(raw["files"])
            raw["columns"] = tuple(raw["columns"])
            raw["partitioned_by"] = tuple(raw["partitioned_by"])
            tables[name] = TableEntry(**raw)
        return cls(
            version=int(data["version"]),
            tables=tables,
            builds=tuple((str(b), str(f)) for b, f in data.get("builds", [])),
            committed_at=float(data.get("committed_at", 0.0)),
            sources_built=data.get("sources_built", {}),
        )


EMPTY = Snapshot(version=0, tables={})


def lake_root(uri: str | Path) -> Path:
    """The folder a lake URI names (a path, or a ``file://`` URI)."""
    text = str(uri)
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    elif "://" in text:
        raise LakeError(
            f"{text}: the lake is a folder; mount the object store as one (Databricks "
            "/dbfs/..., Fabric /lakehouse/default/Files/..., s3fs or blobfuse) and give its path"
        )
    return Path(text)


class Lake:
    def __init__(self, uri: str | Path) -> None:
        self.root = lake_root(uri)
        self.log = self.root / LOG

    def path(self, relative: str) -> Path:
        return self.root / relative

    def new_file(self, table: str, suffix: str = ".parquet") -> str:
        """A relative path for a new data file of ``table`` that no other writer uses."""
        schema, name = table.split(".", 1)
        return f"{schema}/{name}/{uuid.uuid4().hex}{suffix}"

    def new_folder(self, table: str, build: str) -> str:
        schema, name = table.split(".", 1)
        return f"{schema}/{name}/{build}"

    def _entries(self) -> list[Path]:
        if not self.log.is_dir():
            return []
        return sorted(p for p in self.log.iterdir() if p.suffix == ".json" and p.stem.isdigit())

    def current(self) -> Snapshot:
        """The latest committed snapshot (an empty one for a new lake)."""
        entries = self._entries()
        if not entries:
            return EMPTY
        return Snapshot.from_json(entries[-1].read_text(encoding="utf-8"))

    def version(self) -> int:
        entries = self._entries()
        return int(entries[-1].stem) if entries else 0

    def commit(self, change: Callable[[Snapshot], Snapshot], *, attempts: int = 20) -> Snapshot:
        """Commit ``change(latest)`` as the next snapshot. ``change`` may be called again
        with a newer snapshot when another writer commits first, so it must apply its
        change to what it is given rather than return a snapshot it made earlier."""
        self.log.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            latest = self.current()
            new = dataclasses.replace(
                change(latest), version=latest.version + 1, committed_at=time.time()
            )
            temporary = self.log / f".{uuid.uuid4().hex}.tmp"
            temporary.write_text(new.to_json(), encoding="utf-8")
            target = self.log / f"{new.version:020d}.json"
            try:
                # A hard link fails if the entry exists: an atomic "create if absent", and
                # the entry appears whole (it was written in full under another name).
                os.link(temporary, target)
            except FileExistsError:
                continue
            finally:
                temporary.unlink()
            return new
        raise LakeError(f"{self.root}: could not commit after {attempts} attempts")

    def vacuum(self, *, keep: int = KEEP_SNAPSHOTS, grace: float = GRACE_SECONDS) -> int:
        """Remove log entries older than the last ``keep``, and data files none of those
        name (once older than ``grace`` seconds). Returns how many files were removed."""
        entries = self._entries()
        kept = entries[-keep:]
        live: set[str] = set()
        for entry in kept:
            snapshot = Snapshot.from_json(entry.read_text(encoding="utf-8"))
            for table in snapshot.tables.values():
                live.update(table.files)
            live.update(f for _, f in snapshot.builds)
        cutoff = time.time() - grace
        removed = 0
        for entry in entries[:-keep]:
            entry.unlink()
        for path in sorted(self.root.rglob("*"), reverse=True):  # files before their folders
            relative = path.relative_to(self.root).as_posix()
            if relative == LOG or relative.startswith(f"{LOG}/"):
                continue
            if path.is_dir():
                if not any(path.iterdir()) and path.stat().st_mtime <= cutoff:
                    path.rmdir()
                continue
            if relative in live or path.stat().st_mtime > cutoff:
                continue
            path.unlink()
            removed += 1
        return removed
