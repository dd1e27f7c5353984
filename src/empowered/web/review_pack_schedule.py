"""The running server writes the termly review packs into ``EMPOWERED_REVIEW_PACK_DIR`` in
the two weeks before each term (``documents.review_pack_schedule``): a background thread
looks every hour, and each pack written is audited with ``via="schedule"``.

A failure (a folder that cannot be written, a warehouse being rebuilt) is logged by its kind
only and tried again at the next look; it never stops the server.
"""

from __future__ import annotations

import logging
import threading
from datetime import date

from fastapi import FastAPI

from empowered.access import audit
from empowered.documents.review_pack_schedule import write_due
from empowered.web.import_runs import settings_of

log = logging.getLogger(__name__)

SCHEDULE = "schedule"
POLL_SECONDS = 3600.0


class ReviewPackSchedule:
    def __init__(self, app: FastAPI, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def tick(self, today: date | None = None) -> int:
        """One look: write the packs that are due and not yet written; how many were."""
        settings = settings_of(self.app)
        folder = settings.review_pack_dir
        if folder is None:
            return 0
        warehouse = self.app.state.warehouse
        written = []
        with warehouse.reading() as con:
            for _, made in write_due(
                con,
                folder,
                today or date.today(),
                keys=settings.keys(),
                cache=getattr(self.app.state, "cache", None),
            ):
                written.append(made)
        if written:
            with warehouse.recording() as con:
                for made in written:
                    audit.record(con, made.audit_event(SCHEDULE), user=None)
            log.info("review packs: %d written", len(written))
        return len(written)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception as err:  # noqa: BLE001 - the schedule must outlive any one look
                log.error("review packs: the schedule's look failed (%s)", type(err).__name__)
            self.stopping.wait(self.poll_seconds)


def schedule(app: FastAPI) -> ReviewPackSchedule:
    found = getattr(app.state, "review_packs", None)
    if not isinstance(found, ReviewPackSchedule):
        found = app.state.review_packs = ReviewPackSchedule(app)
    return found


def start(app: FastAPI) -> None:
    """Start the schedule's thread, if a folder is set."""
    if settings_of(app).review_pack_dir is None:
        return
    runner = schedule(app)
    runner.thread = threading.Thread(target=runner.run, name="empowered-review-packs", daemon=True)
    runner.thread.start()


def stop(app: FastAPI, timeout: float = 120.0) -> None:
    runner = schedule(app)
    runner.stopping.set()
    if runner.thread is not None:
        runner.thread.join(timeout)
