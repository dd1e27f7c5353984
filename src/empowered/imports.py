"""The import service: land files, rebuild only what they touch, report the outcome.

``empowered import``, ``empowered watch`` and (later) the web upload page all call
``run_import``, so a file is treated the same whichever way it arrives.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from empowered.access.audit import FailedImport, RefusedImport, record
from empowered.access.store import ensure_access_tables
from empowered.disk_full import is_disk_full, mentions_disk_full
from empowered.keys import Keys
from empowered.sources.errors import SourceError
from empowered.sources.importer import DEFAULT_MAX_BYTES, ImportResult, expand, import_files
from empowered.sources.mapping import Mapping
from empowered.sources.registry import choose_reader
from empowered.sources.report import ReportLine, import_report, save_report
from empowered.sources.saved_mappings import SavedMappingReader
from empowered.sources.scope import UNRESTRICTED, ImportLimits, ImportRefused
from empowered.sources.tracker import catalogue_from_csv
from empowered.warehouse.build import build_duckdb, unordered_writes
from empowered.warehouse.connection import in_transaction, table_exists
from empowered.warehouse.runner import BuildResult, ProgressCallback, record_runs
from empowered.warehouse.staging_spec import SCHOOL_UNKNOWN


def problem_event(
    err: SourceError, *, via: str, import_id: int | None = None
) -> RefusedImport | FailedImport:
    """The audit entry for an import that did not happen: refused (rows outside the
    importer's reach) or failed (the file could not be used)."""
    file = Path(err.file).name
    if isinstance(err, ImportRefused):
        return RefusedImport(
            via=via,
            file=file,
            reason=err.reason,
            row=err.row,
            column=err.column,
            import_id=import_id,
        )
    # The kind of problem only ("could not be read as CSV", "required column missing"):
    # what follows the colon can quote the file's cells.
    return FailedImport(via=via, file=file, reason=err.reason.split(":")[0], import_id=import_id)


def audit_problem(con: duckdb.DuckDBPyConnection, err: SourceError, *, via: str) -> None:
    """Record a refused or failed import made at the command line (no user: the operator)."""
    ensure_access_tables(con)
    record(con, problem_event(err, via=via), user=None)


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


def known_schools(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The warehouse's schools by URN and by DfE number (LA code and establishment
    number), from the last build: how a transfer file names the school it is for."""
    if not table_exists(con, "core", "dim_school"):
        return {}
    known: dict[str, str] = {}
    for urn, dfe in con.execute("SELECT school_urn, dfe_number FROM core.dim_school").fetchall():
        known[str(urn)] = str(urn)
        if dfe:
            known[str(dfe)] = str(urn)
    return known


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
    limits: ImportLimits = UNRESTRICTED,
    export_date: str | None = None,
    mapping: Mapping | None = None,
) -> ImportOutcome:
    """Land ``paths`` and rebuild what they touch in one transaction (``ImportNotSaved``
    when it was rolled back: a full disk, a model that raised), then write the report.

    ``export_date`` (ISO) is when the files were exported, for exports whose title lines
    do not say: a pupil's characteristics took effect then, not on the day of import.

    ``limits`` says whose rows the import may write: the web upload passes the uploader's
    (from the access policy), the inbox a URN folder's school. The command line passes
    none: it is run by the operator who holds the warehouse file, who could change that
    file directly anyway.

    ``mapping`` (a school's saved mapping) reads every file, whatever ``source`` says.
    """
    started = time.perf_counter()
    # A tracker names interventions in words: match them to the trust's catalogue, whether
    # it is already in the warehouse or arrives in this same import.
    catalogue = intervention_catalogue(con)
    schools = known_schools(con)
    for path in expand(paths):
        if path.name.lower() == "interventions.csv":
            catalogue.update(catalogue_from_csv(path))
    with _all_or_nothing(con) as saved:
        result = import_files(
            con,
            paths,
            keys=keys,
            choose_reader=lambda path, chosen: (
                SavedMappingReader(
                    mapping, school=school or school_from_folder(path), file_date=export_date
                )
                if mapping is not None
                else choose_reader(
                    path,
                    chosen,
                    school=school or school_from_folder(path),
                    catalogue=catalogue,
                    file_date=export_date,
                    schools=schools,
                )
            ),
            source=source,
            max_bytes=max_bytes,
            limits=limits,
        )
        touched = result.touched_raw_tables()
        build = build_duckdb(con, touched=touched, progress=progress) if touched else None
        saved.build = build
    report = import_report(con, result)
    report_path = None
    if report_dir is not None and result.batch_ids:
        report_path = report_dir / f"import-{min(result.batch_ids):06d}.csv"
        save_report(report, report_path)
    return ImportOutcome(result, build, report, report_path, time.perf_counter() - started)


class ImportNotSaved(RuntimeError):
    """The import and its build are one transaction, and it was rolled back: the
    warehouse is as it was. The message is for people (it quotes no cell of a file)."""

    def __init__(self, message: str, build: BuildResult | None = None) -> None:
        super().__init__(message)
        self.build = build


DISK_FULL = (
    "the disk is full (or the file size limit was reached): nothing from this import was"
    " saved; free some space and import the file again"
)


@dataclass
class _Import:
    build: BuildResult | None = None


@contextmanager
def _all_or_nothing(con: duckdb.DuckDBPyConnection) -> Iterator[_Import]:
    """Land and build in one transaction, so that a full disk, a model that raises or a
    killed process leaves raw, meta and the marts as they were; a build whose checks fail
    is kept, as before (its rows are in raw, and the report says what failed). The one
    place a failed write becomes the plain message (``DISK_FULL``)."""
    if in_transaction(con):  # the caller's transaction decides
        yield _Import()
        return
    state = _Import()
    with unordered_writes(con):
        con.execute("BEGIN TRANSACTION")
        try:
            yield state
            if state.build is not None and state.build.stopped:
                raise _stopped(state.build)
            con.execute("COMMIT")
        except BaseException as err:
            _roll_back(con)
            full = is_disk_full(err) or str(err) == DISK_FULL
            if state.build is not None and state.build.stopped and not full:
                record_runs(con, state.build)
            if full:
                # Nothing written, not even the failed build's runs: the file is as it was.
                raise ImportNotSaved(DISK_FULL, state.build) from err
            raise


def _stopped(build: BuildResult) -> ImportNotSaved:
    [failure] = [r for r in build.results if r.status == "error"]
    if mentions_disk_full(failure.message):
        return ImportNotSaved(DISK_FULL, build)
    return ImportNotSaved(
        f"the build after the import failed at {failure.model.name}: nothing from this import"
        " was saved; the error is in the build report (empowered build shows it again)",
        build,
    )


def _roll_back(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        # A write-ahead log that could not be written closes the database: the
        # transaction's commit never completed, and reopening the file finds it as it was.
        pass


def nothing_taken(outcome: ImportOutcome) -> str | None:
    """Why an import took nothing, and the next step, when it took nothing: no file was
    one EmpowerED+ recognises, or every row landed was quarantined. None when some rows
    were accepted (or every file had been imported before: that changes nothing, rightly).
    """
    result = outcome.result
    if not result.files and result.unrecognised_files:
        return (
            "Nothing imported: no file is a format EmpowerED+ recognises "
            f"({', '.join(result.unrecognised_files)}). Next: name the system with --source "
            "(sims, arbor, bromcom, ctf), or describe the layout in a mapping file and pass "
            "--source your-layout.yml (docs/mis-import.md)."
        )
    landed = sum(x.rows for x in outcome.report if x.outcome == "landed")
    accepted = sum(x.rows for x in outcome.report if x.outcome == "accepted")
    if landed == 0 or accepted > 0:
        return None
    reasons: dict[tuple[str, str], int] = {}
    for x in outcome.report:
        if x.outcome == "quarantined":
            reasons[(x.column, x.reason)] = reasons.get((x.column, x.reason), 0) + x.rows
    (column, reason), rows = max(reasons.items(), key=lambda item: item[1])
    first = (
        # Records, not rows: one row of a student list is a pupil and their characteristics.
        f"Nothing accepted: all {landed:,} records read were quarantined. "
        f"Most often ({rows:,}): {column} {reason}."
    )
    if reason == SCHOOL_UNKNOWN:
        return (
            first + " Next: set the school up with `empowered school add URN --name NAME "
            "--phase PHASE` (or --from-gias FILE), then import the file again."
        )
    return first + " Next: correct the file (the report lists every row) and import it again."


@dataclass(frozen=True)
class InboxOutcome:
    file: str
    moved_to: Path  # where the file's record now is: its report, or the reason it failed
    error: str | None
    outcome: ImportOutcome | None
    problem: SourceError | None = None  # why it failed, for the audit log


def _settled(path: Path, quiet_seconds: float) -> bool:
    """A file still being copied in is left for the next pass."""
    return time.time() - path.stat().st_mtime >= quiet_seconds


def inbox_files(inbox: Path) -> list[Path]:
    """The files waiting: at the top of the inbox, and in folders named by a school's URN
    (``inbox/123456/students.csv``), one per school's scheduled export."""
    found: list[Path] = []
    for path in sorted(inbox.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_file():
            found.append(path)
        elif path.is_dir() and school_from_folder(path / "x") is not None:
            found.extend(p for p in sorted(path.iterdir()) if p.is_file() and p.name[0] != ".")
    return found


def inbox_limits(path: Path) -> ImportLimits:
    """A file in a folder named by a URN may carry only that school's rows (and no
    trust-wide catalogue): whoever can write to one school's folder writes for that school
    only. Files at the top of the inbox are the operator's, unrestricted like the CLI."""
    urn = school_from_folder(path)
    return UNRESTRICTED if urn is None else ImportLimits(frozenset({urn}), catalogues=False)


def process_inbox(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    *,
    keys: Keys,
    school: str | None = None,
    quiet_seconds: float = 2.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[InboxOutcome]:
    """Import each settled file in ``inbox`` on its own, then delete it: an imported file
    leaves its report in ``imported/``, a failed one the reason in ``failed/`` (a .txt).

    No copy of a file stays: its rows are in the warehouse (or were refused), and a
    spreadsheet of pupils left on disk is one more place to lose them from. The school
    still holds the export it came from, to fix and drop in again.
    """
    done: list[InboxOutcome] = []
    for path in inbox_files(inbox):
        if not _settled(path, quiet_seconds):
            continue
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            outcome = run_import(
                con,
                [path],
                keys=keys,
                # A school's folder says whose the file is; ``school`` is for the rest.
                school=school_from_folder(path) or school,
                report_dir=inbox / "imported",
                max_bytes=max_bytes,
                limits=inbox_limits(path),
            )
        except SourceError as err:
            reason = inbox / "failed" / f"{stamp}-{path.name}.txt"
            reason.parent.mkdir(parents=True, exist_ok=True)
            # A reader's error can quote the file's full path: keep its name only.
            message = str(err)
            folders = {str(f) for f in (path.parent, inbox, path.parent.resolve())}
            for folder in sorted(folders, key=len, reverse=True):
                message = message.replace(folder + "/", "")
            reason.write_text(message + "\n", "utf-8")
            path.unlink()
            done.append(InboxOutcome(path.name, reason, message, None, err))
            continue
        except ImportNotSaved as err:
            # A full disk, or a build that failed: nothing was saved. The file is kept (in
            # failed/, beside its reason) to be dropped in again once the cause is mended;
            # left in the inbox it would fail again at every look.
            failed = inbox / "failed" / f"{stamp}-{path.name}"
            failed.parent.mkdir(parents=True, exist_ok=True)
            path.replace(failed)
            reason = failed.with_name(failed.name + ".txt")
            with suppress(OSError):  # the disk may have no room for it
                reason.write_text(f"{err}\n", "utf-8")
            done.append(InboxOutcome(path.name, failed, str(err), None, None))
            continue
        # Any other error leaves the file where it is, for the next look.
        path.unlink()
        done.append(
            InboxOutcome(path.name, outcome.report_path or inbox / "imported", None, outcome)
        )
    return done


def uploads_folder(warehouse: Path) -> Path:
    """Where the upload page keeps the files it receives: beside the warehouse file."""
    path = Path(warehouse).resolve()
    return path.with_name(path.stem + "-uploads")


def stored_file_folders(warehouse: Path, inbox: Path | None) -> list[Path]:
    """Every folder that may keep a copy of an imported file (retention deletes a copy that
    held a purged pupil's rows). The inbox itself is left alone: what waits there has not
    been imported yet."""
    folders = [uploads_folder(warehouse)]
    if inbox is not None:
        folders += [inbox / "imported", inbox / "failed"]
    return folders
