"""The inbox folder the server watches while it runs (``EMPOWERED_INBOX``).

Scheduled MIS reports dropped into the folder are imported one file at a time, as
``empowered watch`` does (the same ``process_inbox``: each file leaves its report in
``imported/`` or the reason in ``failed/``, and is deleted), through the server's connection and
under its write lock, since the server holds the warehouse file. A file whose size is
still changing between two looks is being copied in and waits for the next look.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

from empowered.access.audit import Imported, record
from empowered.imports import InboxOutcome, inbox_files, problem_event, process_inbox
from empowered.web import warming
from empowered.web.import_runs import (
    counts,
    fail_run,
    finish_run,
    settings_of,
    start_run,
)

log = logging.getLogger(__name__)

POLL_SECONDS = 3.0


@dataclass
class Watching:
    folder: Path
    thread: threading.Thread
    stopping: threading.Event
    sizes: dict[str, int] = field(default_factory=dict)


def _waiting(folder: Path) -> dict[str, int]:
    """The files waiting in the folder (and its schools' folders) and their sizes (hidden
    files are not ours)."""
    return {str(p.relative_to(folder)): p.stat().st_size for p in inbox_files(folder)}


def _record(app: FastAPI, done: list[InboxOutcome]) -> None:
    with app.state.warehouse.recording() as con:
        for item in done:
            import_id = start_run(con, via="inbox", user=None, school=None, source="auto", files=1)
            if item.outcome is None:
                fail_run(con, import_id, f"Import refused, nothing was changed: {item.error}")
                if item.problem is not None:
                    record(
                        con,
                        problem_event(item.problem, via="inbox", import_id=import_id),
                        user=None,
                    )
                continue
            finish_run(con, import_id, item.outcome)
            accepted, quarantined = counts(item.outcome)
            record(
                con,
                Imported(
                    files=1, rows_accepted=accepted, rows_quarantined=quarantined, via="inbox"
                ),
                user=None,
            )


def poll(app: FastAPI, watching: Watching, quiet_seconds: float) -> list[InboxOutcome]:
    """One look at the inbox: import what has settled since the last look."""
    sizes = _waiting(watching.folder)
    settled = {n: s for n, s in sizes.items() if watching.sizes.get(n) == s}
    watching.sizes = sizes
    if not settled or len(settled) < len(sizes):
        return []  # nothing, or a file still arriving: look again next time
    settings = settings_of(app)
    with app.state.warehouse.writing() as con:
        done = process_inbox(
            con,
            watching.folder,
            keys=settings.keys(),
            school=settings.inbox_school,
            quiet_seconds=quiet_seconds,
            max_bytes=settings.max_import_bytes,
        )
    if done:
        _record(app, done)
        watching.sizes = _waiting(watching.folder)
    if any(d.outcome is not None and d.outcome.build is not None for d in done):
        warming.after_build(app)
    return done


def _watch(app: FastAPI, watching: Watching, interval: float) -> None:
    while not watching.stopping.is_set():
        try:
            poll(app, watching, quiet_seconds=min(interval, 2.0))
        except Exception as err:  # noqa: BLE001 - keep watching; the next look may work
            # The type only: a message could quote a cell of a file.
            log.error("inbox: a look at the folder failed: %s", type(err).__name__)
        watching.stopping.wait(interval)


def start(app: FastAPI) -> None:
    """Begin watching the inbox folder, if one is configured."""
    folder = settings_of(app).inbox
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    interval = float(getattr(app.state, "inbox_poll_seconds", POLL_SECONDS))
    stopping = threading.Event()
    watching = Watching(folder, threading.Thread(), stopping)
    watching.thread = threading.Thread(
        target=_watch, args=(app, watching, interval), name="empowered-inbox", daemon=True
    )
    app.state.inbox = watching
    watching.thread.start()


def stop(app: FastAPI) -> None:
    """Stop watching (an import under way finishes first: it is one transaction)."""
    watching = getattr(app.state, "inbox", None)
    if not isinstance(watching, Watching):
        return
    watching.stopping.set()
    watching.thread.join(timeout=120)
    app.state.inbox = None
