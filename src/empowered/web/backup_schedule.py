"""Backups the running server takes: on a schedule, when an administrator presses "Back up
now", and when ``empowered backup --to DIR`` asks it over the control socket.

The server holds the warehouse file, so it is the one that can copy it. A backup reads on
a cursor of its own (``Warehouse.reading``) in one transaction: DuckDB gives it a snapshot
while captures, sign-ins and imports carry on writing, so it takes neither the write lock
nor the recording lock for its length; only its one log row and audit entry, at the end,
queue for the recording lock.

The schedule (``EMPOWERED_BACKUP_DIR``, ``EMPOWERED_BACKUP_INTERVAL_HOURS``,
``EMPOWERED_BACKUP_KEEP``): a background thread looks every minute (:meth:`Backups.tick`)
and takes one when the newest backup in the folder is older than the interval, or there is
none (so at start-up); after one succeeds, the oldest beyond ``backup_keep`` are deleted.
A failure (a full disk, a folder that cannot be written) is logged, recorded in
``app.backup_log`` with its reason and in the audit log, and tried again an interval later;
it never stops the server. One backup runs at a time.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from empowered.access import audit
from empowered.backup_log import record_attempt
from empowered.web.import_runs import settings_of

if TYPE_CHECKING:
    from empowered.access.users import User
    from empowered.backup import BackupInfo

log = logging.getLogger(__name__)

SCHEDULE = "schedule"
ADMIN = "admin"
COMMAND_LINE = "command line"
POLL_SECONDS = 60.0
# How long a command line asking for a backup waits for one already running to finish.
WAIT_FOR_RUNNING_SECONDS = 3600.0


class BackupNotTaken(Exception):
    """A backup that failed; the message says why and what to do, in plain English."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # a few words for the audit log ("disk full", "no permission")


class BackupBusy(Exception):
    """Another backup is being taken."""


@dataclass(frozen=True)
class Running:
    via: str
    started_at: datetime


class Backups:
    """The server's backups: one at a time, each recorded (``app.backup_log``, audit)."""

    def __init__(self, app: FastAPI, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self._one_at_a_time = threading.Lock()
        self.running: Running | None = None
        # When the schedule last tried (this process): a failure waits an interval.
        self.last_scheduled: datetime | None = None
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    # -- taking one --------------------------------------------------------------------

    def take(
        self,
        folder: Path,
        *,
        via: str,
        user: User | None = None,
        now: datetime | None = None,
        wait: float = 0.0,
    ) -> BackupInfo:
        """One backup into ``folder`` now (pruned to ``backup_keep`` when ``folder`` is the
        schedule's). Raises :class:`BackupBusy` when another is still running after
        ``wait`` seconds, :class:`BackupNotTaken` when it failed (recorded either way)."""
        claimed = self._one_at_a_time.acquire(timeout=wait) if wait > 0 else self._claim()
        if not claimed:
            raise BackupBusy
        return self._take_claimed(folder, via=via, user=user, now=now)

    def start(self, folder: Path, *, via: str, user: User | None = None) -> bool:
        """Take a backup in a thread of its own (the admin's button); False if one is
        already running."""
        if not self._claim():
            return False

        def run() -> None:
            try:
                self._take_claimed(folder, via=via, user=user, now=None)
            except BackupNotTaken:
                pass  # recorded and logged; the admin page shows it

        threading.Thread(target=run, name="empowered-backup-now", daemon=True).start()
        return True

    def _claim(self) -> bool:
        if self.stopping.is_set():
            return False  # the server is stopping: no new backup begins
        return self._one_at_a_time.acquire(blocking=False)

    def _take_claimed(
        self, folder: Path, *, via: str, user: User | None, now: datetime | None
    ) -> BackupInfo:
        """Called holding ``_one_at_a_time``; releases it."""
        began = now or datetime.now(UTC)
        self.running = Running(via, began)
        clock = time.perf_counter()
        try:
            try:
                info = self._copy(folder, now)
            except Exception as err:  # noqa: BLE001 - every failure is recorded, none escapes
                failed = plain_failure(err, folder)
                self._record(failed, folder, via=via, user=user, began=began, now=now)
                raise failed from err
            self._record(info, folder, via=via, user=user, began=began, now=now)
            if self._is_schedule_folder(folder):
                self._prune(folder)
            log.info("backup: taken (%s) in %.1f s", via, time.perf_counter() - clock)
            return info
        finally:
            self.running = None
            self._one_at_a_time.release()

    def _copy(self, folder: Path, now: datetime | None) -> BackupInfo:
        from empowered.backup import take_backup
        from empowered.backup.keys import backup_key

        settings = settings_of(self.app)
        key = backup_key(settings, create=True)  # the first backup adds one to the key file
        with self.app.state.warehouse.reading() as con:
            return take_backup(con, folder, settings.keys(), key, now=now)

    def _prune(self, folder: Path) -> None:
        try:
            prune(folder, settings_of(self.app).backup_keep)
        except OSError as err:  # the new backup stands; the next success prunes again
            log.warning("backup: old backups could not be deleted (%s)", type(err).__name__)

    def _is_schedule_folder(self, folder: Path) -> bool:
        chosen = settings_of(self.app).backup_dir
        return chosen is not None and chosen.resolve() == folder.resolve()

    def _record(
        self,
        outcome: BackupInfo | BackupNotTaken,
        folder: Path,
        *,
        via: str,
        user: User | None,
        began: datetime,
        now: datetime | None,
    ) -> None:
        """The attempt's row (``app.backup_log``) and audit entry. A warehouse that cannot
        take them (its own disk full) is logged, never raised: the backup's outcome stands."""
        where = str(folder)
        details: dict[str, Any]
        event: audit.AuditEvent
        if isinstance(outcome, BackupNotTaken):
            # The kind only in the server's log, as elsewhere: a message could quote a value.
            log.error("backup: failed (%s, %s)", via, outcome.kind)
            details = {"reason": str(outcome)}
            event = audit.BackupFailed(via=via, folder=where, reason=outcome.kind)
        else:
            details = {
                "file_name": outcome.path.name,
                "size_bytes": outcome.size_bytes,
                "sha256": outcome.sha256,
                "row_counts": dict(outcome.row_counts),
                "seconds": outcome.seconds,
            }
            event = audit.BackupTaken(
                via=via, folder=where, size_bytes=outcome.size_bytes, seconds=outcome.seconds
            )
        try:
            with self.app.state.warehouse.recording() as con:
                record_attempt(
                    con, started_at=began, finished_at=now, via=via, folder=where, **details
                )
                audit.record(con, event, user=user)
        except Exception as err:  # noqa: BLE001
            log.error("backup: the attempt could not be recorded (%s)", type(err).__name__)

    # -- the schedule ------------------------------------------------------------------

    def due(self, now: datetime) -> bool:
        """Whether the schedule should take one at ``now``."""
        settings = settings_of(self.app)
        if settings.backup_dir is None:
            return False
        interval = self._interval()
        if self.last_scheduled is not None and now - self.last_scheduled < interval:
            return False  # tried (and failed, or the folder was emptied) within the interval
        newest = newest_backup(settings.backup_dir)
        return newest is None or now - newest >= interval

    def _due_or_unreadable(self, now: datetime) -> bool:
        try:
            return self.due(now)
        except OSError as err:  # an unreadable folder: the backup tried now says why
            log.warning("backup: the folder could not be read (%s)", type(err).__name__)
            return self.last_scheduled is None or now - self.last_scheduled >= self._interval()

    def _interval(self) -> timedelta:
        return timedelta(hours=settings_of(self.app).backup_interval_hours)

    def tick(self, now: datetime | None = None) -> BackupInfo | BackupNotTaken | None:
        """One look: take the scheduled backup if it is due. Never raises."""
        now = now or datetime.now(UTC)
        folder = settings_of(self.app).backup_dir
        if folder is None or not self._due_or_unreadable(now):
            return None
        self.last_scheduled = now
        try:
            return self.take(folder, via=SCHEDULE, now=now)
        except BackupNotTaken as failed:
            return failed
        except BackupBusy:
            self.last_scheduled = None  # an admin's backup is running: look again soon
            return None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception as err:  # noqa: BLE001 - the schedule must outlive any one look
                log.error("backup: the schedule's look failed (%s)", type(err).__name__)
            self.stopping.wait(self.poll_seconds)


def newest_backup(folder: Path) -> datetime | None:
    """When the newest backup in ``folder`` was taken (None: none there, or no folder)."""
    from empowered.backup import list_backups

    if not folder.is_dir():
        return None
    taken = [b.created_at for b in list_backups(folder)]
    return max(taken) if taken else None


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest backups in ``folder`` beyond the newest ``keep`` (at least one is
    always kept); only files the backup listing knows, each with its sidecar."""
    from empowered.backup import list_backups
    from empowered.backup.manifest import sidecar_path

    kept = sorted(list_backups(folder), key=lambda b: b.created_at, reverse=True)
    removed: list[Path] = []
    for old in kept[max(1, keep) :]:
        for path in (old.path, sidecar_path(old.path)):
            path.unlink(missing_ok=True)
        removed.append(old.path)
    if removed:
        log.info("backup: %d old backups deleted (keeping %d)", len(removed), keep)
    return removed


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def plain_failure(err: Exception, folder: Path) -> BackupNotTaken:
    """What went wrong, what was kept and what to do, in plain English."""
    from empowered.backup.errors import BackupProblem

    kind = _kind(err.__cause__ if isinstance(err, BackupProblem) else err)
    if isinstance(err, BackupProblem):  # its message already says what happened and to do
        return BackupNotTaken(str(err), kind)
    kept = "The warehouse is unchanged and the backups already taken are kept."
    if kind == "disk full":
        return BackupNotTaken(
            f"The disk holding the backup folder {folder} is full. {kept} Free some space "
            "there, or choose a folder on a bigger disk (EMPOWERED_BACKUP_DIR), then press "
            "Back up now.",
            kind,
        )
    if kind == "no permission":
        return BackupNotTaken(
            f"EmpowerED+ may not write to the backup folder {folder}. {kept} Let the account "
            "the server runs as write there, or choose another folder, then press Back up now.",
            kind,
        )
    if isinstance(err, OSError):
        return BackupNotTaken(
            f"The backup folder {folder} could not be used ({err.strerror or 'an error'}): "
            f"a part of its path may be a file, or its drive not connected. {kept} Check the "
            "folder, then press Back up now.",
            kind,
        )
    return BackupNotTaken(
        f"The backup could not be taken ({type(err).__name__}). {kept} Try Back up now; "
        "if it fails again, the server's log says more.",
        kind,
    )


def _kind(err: BaseException | None) -> str:
    """A few words for the audit log: what kind of failure (never its message)."""
    if isinstance(err, OSError) and err.errno in _DISK_FULL:
        return "disk full"
    if isinstance(err, PermissionError):
        return "no permission"
    if isinstance(err, OSError):
        return "folder unusable"
    return "backup problem" if err is None else type(err).__name__


def backups(app: FastAPI) -> Backups:
    """The app's backups (made on first use, so pages work without the lifespan)."""
    found = getattr(app.state, "backups", None)
    if not isinstance(found, Backups):
        found = app.state.backups = Backups(app)
    return found


def start(app: FastAPI) -> None:
    """Start the schedule's thread, if a backup folder is set."""
    runner = backups(app)
    if settings_of(app).backup_dir is None:
        return
    runner.poll_seconds = float(getattr(app.state, "backup_poll_seconds", runner.poll_seconds))
    runner.thread = threading.Thread(target=runner.run, name="empowered-backups", daemon=True)
    runner.thread.start()


def stop(app: FastAPI, timeout: float = 600.0) -> None:
    """At server stop: no new backup starts, and one under way is waited for (the process
    must not exit inside its query)."""
    runner = backups(app)
    runner.stopping.set()
    if runner.thread is not None:
        runner.thread.join(timeout)
    if runner._one_at_a_time.acquire(timeout=timeout):
        runner._one_at_a_time.release()
