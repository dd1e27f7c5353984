"""The record of every backup the server took or tried, in ``app.backup_log``.

One row per attempt, whether the schedule, an administrator's "Back up now" or a command
line asking the running server started it: when, where, how big, how long, rows per table,
and, for one that failed, why in plain words. The admin page and the home page's warning
read it (``views/backups.py``). Nothing about a pupil is kept here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

OK = "ok"
FAILED = "failed"
_WRITTEN = (
    "started_at, finished_at, via, status, folder, file_name, size_bytes, sha256, row_counts, "
    "seconds, reason"
)
_COLUMNS = f"backup_id, {_WRITTEN}"


@dataclass(frozen=True)
class Attempt:
    """One backup taken or tried (times in UTC)."""

    backup_id: int
    started_at: datetime
    finished_at: datetime
    via: str  # schedule | admin | command line
    status: str  # ok | failed
    folder: str
    file_name: str | None
    size_bytes: int | None
    sha256: str | None
    row_counts: dict[str, int] | None
    seconds: float | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.status == OK


def record_attempt(
    con: duckdb.DuckDBPyConnection,
    *,
    started_at: datetime,
    via: str,
    folder: str,
    file_name: str | None = None,
    size_bytes: int | None = None,
    sha256: str | None = None,
    row_counts: dict[str, int] | None = None,
    seconds: float | None = None,
    reason: str | None = None,
    finished_at: datetime | None = None,
) -> None:
    """Append one attempt: ``reason`` None means it succeeded."""
    counts = None if row_counts is None else json.dumps(row_counts, sort_keys=True)
    con.execute(
        f"INSERT INTO app.backup_log ({_WRITTEN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            _naive(started_at),
            _naive(finished_at or datetime.now(UTC)),
            via,
            OK if reason is None else FAILED,
            folder,
            file_name,
            size_bytes,
            sha256,
            counts,
            seconds,
            reason,
        ],
    )


def attempts(
    con: duckdb.DuckDBPyConnection, *, limit: int = 20, status: str | None = None
) -> list[Attempt]:
    """The newest attempts first (only those with ``status``, if given)."""
    where = "" if status is None else "WHERE status = ? "
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM app.backup_log {where}ORDER BY finished_at DESC, backup_id DESC "
        "LIMIT ?",
        [*([] if status is None else [status]), max(0, limit)],
    ).fetchall()
    return [_attempt(row) for row in rows]


def latest(con: duckdb.DuckDBPyConnection, *, status: str | None = None) -> Attempt | None:
    found = attempts(con, limit=1, status=status)
    return found[0] if found else None


def _attempt(row: tuple[object, ...]) -> Attempt:
    (backup_id, started, finished, via, status, folder, name, size, sha, counts, secs, why) = row
    assert isinstance(started, datetime) and isinstance(finished, datetime)
    return Attempt(
        backup_id=int(str(backup_id)),
        started_at=started.replace(tzinfo=UTC),
        finished_at=finished.replace(tzinfo=UTC),
        via=str(via),
        status=str(status),
        folder=str(folder),
        file_name=None if name is None else str(name),
        size_bytes=None if size is None else int(str(size)),
        sha256=None if sha is None else str(sha),
        row_counts=None if counts is None else json.loads(str(counts)),
        seconds=None if secs is None else float(str(secs)),
        reason=None if why is None else str(why),
    )


def _naive(moment: datetime) -> datetime:
    """UTC without a zone, as the other ``app`` tables keep their times."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)
