"""Imports through the running server, shared by the upload page and the inbox.

Both call the service the command line uses (``empowered.imports.run_import`` and
``process_inbox``) on the server's own connection, under its write lock, so an import's
transaction never interleaves with a capture. Each import is written to ``app.imports``
(who, when, how it went) with the batches it landed, and to the audit log as counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb
from fastapi import FastAPI

from empowered.access.audit import FailedImport, Imported, record
from empowered.access.users import User
from empowered.imports import (
    ImportNotSaved,
    ImportOutcome,
    nothing_taken,
    problem_event,
    run_import,
)
from empowered.settings import Settings, get_settings
from empowered.sources.errors import SourceError
from empowered.sources.mapping import Mapping
from empowered.sources.scope import ImportLimits
from empowered.web import warming

log = logging.getLogger(__name__)

UNEXPECTED = (
    "The import stopped with an unexpected error, so nothing was changed. "
    "Try again; if it happens again, tell your data lead."
)


def settings_of(app: FastAPI) -> Settings:
    """The app's settings (a test may put its own on ``app.state.settings``)."""
    settings = getattr(app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def uploads_root(app: FastAPI) -> Path:
    """Where uploads are kept: a folder beside the warehouse file, never the code's."""
    from empowered.imports import uploads_folder

    return uploads_folder(Path(app.state.warehouse.path))


def discard_uploads(paths: Sequence[Path]) -> None:
    """Delete uploaded files once their import is over: the rows are in the warehouse (or
    were refused) and the report is written, so a copy on disk would only be one more
    place holding pupils' data in clear. The report beside them stays."""
    for path in paths:
        path.unlink(missing_ok=True)


def start_run(
    con: duckdb.DuckDBPyConnection,
    *,
    via: str,
    user: User | None,
    school: str | None,
    source: str,
    files: int,
) -> int:
    [(import_id,)] = con.execute("SELECT nextval('app.import_seq')").fetchall()
    con.execute(
        "INSERT INTO app.imports (import_id, via, user_id, username, school_urn, source, files,"
        " status, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)",
        [
            import_id,
            via,
            user.user_id if user else None,
            user.username if user else None,
            school,
            source,
            files,
            datetime.now(),
        ],
    )
    return int(import_id)


def counts(outcome: ImportOutcome) -> tuple[int, int]:
    """Rows accepted and rows quarantined by this import."""
    accepted = sum(x.rows for x in outcome.report if x.outcome == "accepted")
    quarantined = sum(x.rows for x in outcome.report if x.outcome == "quarantined")
    return accepted, quarantined


def summary(outcome: ImportOutcome) -> str:
    """What staff should know beyond the counts, one sentence a line."""
    lines: list[str] = []
    taken_nothing = nothing_taken(outcome)
    if taken_nothing:
        lines.append(taken_nothing)
    already = [f.path.name for f in outcome.result.files if f.already_imported]
    if already:
        lines.append(f"Already imported, so nothing changed: {', '.join(already)}.")
    if outcome.result.unrecognised_files:
        lines.append(
            "Not a format EmpowerED+ recognises, so left out: "
            f"{', '.join(outcome.result.unrecognised_files)}."
        )
    for x in outcome.report:
        if x.outcome == "skipped":
            lines.append(f"{x.file}: {x.rows:,} rows skipped ({x.reason}).")
        elif x.outcome == "unknown column":
            lines.append(f"{x.file}: column {x.column!r} is not used (it is kept in raw).")
        elif x.outcome == "warning" and not x.entity:
            lines.append(f"{x.file}: {x.reason}")
    if outcome.build is None:
        lines.append("Nothing new to import.")
    elif not outcome.build.ok:
        lines.append(
            "The rows were imported but rebuilding the warehouse found a problem; "
            "tell your data lead (the command `empowered build` shows it)."
        )
    return "\n".join(lines)


def finish_run(con: duckdb.DuckDBPyConnection, import_id: int, outcome: ImportOutcome) -> None:
    accepted, quarantined = counts(outcome)
    con.execute(
        "UPDATE app.imports SET status = 'done', message = ?, rows_accepted = ?, "
        "rows_quarantined = ?, finished_at = ? WHERE import_id = ?",
        [summary(outcome), accepted, quarantined, datetime.now(), import_id],
    )
    for batch_id in outcome.result.batch_ids:
        con.execute("INSERT OR IGNORE INTO app.import_batches VALUES (?, ?)", [import_id, batch_id])


def fail_run(con: duckdb.DuckDBPyConnection, import_id: int, message: str) -> None:
    con.execute(
        "UPDATE app.imports SET status = 'failed', message = ?, finished_at = ? "
        "WHERE import_id = ?",
        [message, datetime.now(), import_id],
    )


def without_paths(message: str, *folders: Path) -> str:
    """A message fit to show: no server folder (the upload folder, the warehouse's) in it,
    only file names."""
    for folder in folders:
        spellings = {str(folder), str(folder.resolve())}
        for spelling in sorted((s for s in spellings if Path(s).is_absolute()), key=len)[::-1]:
            message = message.replace(spelling + "/", "").replace(spelling, "the folder")
    return message


def run_upload(
    app: FastAPI,
    import_id: int,
    paths: Sequence[Path],
    *,
    user: User,
    ip: str | None,
    source: str,
    school: str | None,
    limits: ImportLimits,
    mapping: Mapping | None = None,
) -> None:
    """Import uploaded files (run in a thread of its own; the status page polls the
    outcome from ``app.imports``)."""
    settings = settings_of(app)
    folder = paths[0].parent if paths else uploads_root(app)
    built = False
    try:
        with app.state.warehouse.writing() as con:
            try:
                outcome = run_import(
                    con,
                    paths,
                    keys=settings.keys(),
                    source=source,
                    school=school,
                    report_dir=folder,
                    max_bytes=min(settings.max_import_bytes, settings.max_upload_bytes),
                    limits=limits,
                    mapping=mapping,
                )
            except SourceError as err:
                message = without_paths(str(err), folder, Path(app.state.warehouse.path).parent)
                fail_run(con, import_id, f"Import refused, nothing was changed: {message}")
                record(con, problem_event(err, via="upload", import_id=import_id), user=user, ip=ip)
                return
            except ImportNotSaved as err:  # a full disk: said plainly, nothing was kept
                fail_run(con, import_id, f"Import failed: {err}.")
                return
            finish_run(con, import_id, outcome)
            accepted, quarantined = counts(outcome)
            record(
                con,
                Imported(
                    files=len(paths),
                    rows_accepted=accepted,
                    rows_quarantined=quarantined,
                    via="upload",
                ),
                user=user,
                ip=ip,
            )
            built = outcome.build is not None
    except Exception as err:  # noqa: BLE001 - the status page must not wait for ever
        # The type only: a message could quote a cell of the file.
        log.error("upload import %s failed: %s", import_id, type(err).__name__)
        with app.state.warehouse.recording() as con:
            fail_run(con, import_id, UNEXPECTED)
            record(
                con,
                FailedImport(via="upload", file="", reason=type(err).__name__, import_id=import_id),
                user=user,
                ip=ip,
            )
        return
    finally:
        discard_uploads(paths)
    if built:
        warming.after_build(app)
