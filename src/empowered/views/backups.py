"""How the warehouse's backups stand: what the admin page shows and what the home page
warns the trust admin about.

The last backup is the newest that succeeded, wherever it went: the log of attempts
(``app.backup_log``) or, for backups the log does not know (a warehouse restored from
one), the newest in the schedule's folder. The home page warns when there is none, when
it is older than a day (``STALE_AFTER``), or when the last attempt failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from empowered.backup_log import FAILED, OK, Attempt, attempts

# "Older than a day", with an hour's grace so a daily backup being taken is not flagged.
STALE_AFTER = timedelta(hours=25)
SHOWN_ATTEMPTS = 10


@dataclass(frozen=True)
class Taken:
    """One backup that exists (or existed): when, where, how big, rows per table."""

    at: datetime
    where: str
    size_bytes: int | None
    row_counts: dict[str, int] | None


@dataclass(frozen=True)
class BackupStatus:
    now: datetime
    folder: Path | None  # the schedule's folder (None: no schedule)
    interval_hours: float
    keep: int
    last: Taken | None
    last_attempt: Attempt | None
    recent: list[Attempt] = field(default_factory=list)
    kept: list[Taken] = field(default_factory=list)  # in the schedule's folder, newest first
    running_since: datetime | None = None

    @property
    def scheduled(self) -> bool:
        return self.folder is not None

    @property
    def failed(self) -> Attempt | None:
        """The last attempt, if it failed."""
        last = self.last_attempt
        return last if last is not None and last.status == FAILED else None

    @property
    def age(self) -> timedelta | None:
        return None if self.last is None else max(timedelta(0), self.now - self.last.at)

    @property
    def stale(self) -> bool:
        return self.age is None or self.age > STALE_AFTER

    @property
    def warning(self) -> str | None:
        """What the trust admin is told on the home page (None: all is well)."""
        if self.failed is not None:
            return f"The last backup, tried {ago(self.now - self.failed.finished_at)}, failed."
        if self.last is None:
            return "No backup of EmpowerED+ has been taken yet."
        if self.stale:
            return f"The newest backup was taken {ago(self.age or timedelta(0))}."
        return None

    @property
    def advice(self) -> str:
        """What to do about the warning."""
        if self.failed is not None:
            return (
                f"{self.failed.reason or ''} The Backups page (Admin) shows every attempt."
            ).strip()
        if self.folder is None:
            return (
                "Ask whoever runs the server to set EMPOWERED_BACKUP_DIR to a folder on "
                "another disk and restart it: it then backs up by itself every "
                f"{hours(self.interval_hours)}. Until then, empowered backup --to FOLDER "
                "takes one."
            )
        return "Press Back up now on the Backups page (Admin), then check it succeeded."


def backup_status(
    con: duckdb.DuckDBPyConnection,
    *,
    folder: Path | None,
    interval_hours: float,
    keep: int,
    now: datetime,
    running_since: datetime | None = None,
) -> BackupStatus:
    recent = attempts(con, limit=SHOWN_ATTEMPTS)
    last_ok = attempts(con, limit=1, status=OK)
    kept = kept_backups(folder)
    candidates = [*kept[:1]]
    if last_ok:
        a = last_ok[0]
        where = str(Path(a.folder) / a.file_name) if a.file_name else a.folder
        candidates.append(Taken(a.finished_at, where, a.size_bytes, a.row_counts))
    last = max(candidates, key=lambda t: t.at) if candidates else None
    return BackupStatus(
        now=now,
        folder=folder,
        interval_hours=interval_hours,
        keep=keep,
        last=last,
        last_attempt=recent[0] if recent else None,
        recent=recent,
        kept=kept,
        running_since=running_since,
    )


def kept_backups(folder: Path | None) -> list[Taken]:
    """The backups in ``folder`` (by their clear-text sidecars), newest first."""
    from empowered.backup import list_backups

    if folder is None or not folder.is_dir():
        return []
    try:
        found = list_backups(folder)
    except OSError:
        return []  # an unreadable folder: the next backup's failure says why
    taken = [Taken(b.created_at, str(b.path), b.size_bytes, dict(b.row_counts)) for b in found]
    return sorted(taken, key=lambda t: t.at, reverse=True)


def ago(age: timedelta) -> str:
    """ "just now", "40 minutes ago", "5 hours ago", "3 days ago"."""
    minutes = int(age.total_seconds() // 60)
    if minutes < 2:
        return "just now"
    if minutes < 120:
        return f"{minutes} minutes ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours ago"
    return f"{minutes // (24 * 60)} days ago"


def hours(value: float) -> str:
    """ "24 hours", "1 hour", "0.5 hours"."""
    return "1 hour" if value == 1 else f"{value:g} hours"
