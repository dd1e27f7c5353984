"""The import service: land files, rebuild only what they touch, report the outcome.

``empowered import``, ``empowered watch`` and (later) the web upload page all call
``run_import``, so a file is treated the same whichever way it arrives.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from empowered.keys import Keys
from empowered.sources.errors import SourceError
from empowered.sources.importer import DEFAULT_MAX_BYTES, ImportResult, expand, import_files
from empowered.sources.registry import choose_reader
from empowered.sources.report import ReportLine, import_report, save_report
from empowered.sources.tracker import catalogue_from_csv
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult, ProgressCallback


def intervention_catalogue(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The trust's intervention codes and names, from the last build (empty before one)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE schema_name = 'core' AND table_name = 'dim_intervention'"
    ).fetchone()
    if not exists or not exists[0]:
        return {}
    rows = con.execute(
        "SELECT intervention_code, intervention_name FROM core.dim_intervention"
    ).fetchall()
    return {str(code): str(name) for code, name in rows}


def school_from_folder(path: Path) -> str | None:
    """Exports that do not carry the school's URN can sit in a folder named by it
    (``inbox/123456/students.csv``), as a trust's scheduled reports usually do."""
    name = path.parent.name
    return name if len(name) == 6 and name.isdigit() else None


@dataclass
class ImportOutcome:
    result: ImportResult
    build: BuildResult | None  # None when nothing new was landed
    report: list[ReportLine]
    report_path: Path | None
    seconds: float


def run_import(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    *,
    keys: Keys,
    source: str = "auto",
    school: str | None = None,
    report_dir: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: ProgressCallback | None = None,
) -> ImportOutcome:
    started = time.perf_counter()
    # A tracker names interventions in words: match them to the trust's catalogue, whether
    # it is already in the warehouse or arrives in this same import.
    catalogue = intervention_catalogue(con)
    for path in expand(paths):
        if path.name.lower() == "interventions.csv":
            catalogue.update(catalogue_from_csv(path))
    result = import_files(
        con,
        paths,
        keys=keys,
        choose_reader=lambda path, chosen: choose_reader(
            path, chosen, school=school or school_from_folder(path), catalogue=catalogue
        ),
        source=source,
        max_bytes=max_bytes,
    )
    touched = result.touched_raw_tables()
    build = build_duckdb(con, touched=touched, progress=progress) if touched else None
    report = import_report(con, result)
    report_path = None
    if report_dir is not None and result.batch_ids:
        report_path = report_dir / f"import-{min(result.batch_ids):06d}.csv"
        save_report(report, report_path)
    return ImportOutcome(result, build, report, report_path, time.perf_counter() - started)


@dataclass(frozen=True)
class InboxOutcome:
    file: str
    moved_to: Path
    error: str | None
    outcome: ImportOutcome | None


def _settled(path: Path, quiet_seconds: float) -> bool:
    """A file still being copied in is left for the next pass."""
    return time.time() - path.stat().st_mtime >= quiet_seconds


def process_inbox(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    *,
    keys: Keys,
    school: str | None = None,
    quiet_seconds: float = 2.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[InboxOutcome]:
    """Import each settled file in ``inbox`` on its own, then move it to ``imported/`` (with
    its report beside it) or ``failed/`` (with the reason in a .txt beside it)."""
    done: list[InboxOutcome] = []
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")):
        if not _settled(path, quiet_seconds):
            continue
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            outcome = run_import(
                con,
                [path],
                keys=keys,
                school=school,
                report_dir=inbox / "imported",
                max_bytes=max_bytes,
            )
        except SourceError as err:
            target = inbox / "failed" / f"{stamp}-{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            target.with_name(target.name + ".txt").write_text(str(err) + "\n", "utf-8")
            done.append(InboxOutcome(path.name, target, str(err), None))
            continue
        target = inbox / "imported" / f"{stamp}-{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        done.append(InboxOutcome(path.name, target, None, outcome))
    return done
