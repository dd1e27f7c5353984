"""The audit log: typed events, written by ONE function into an append-only table.

Entries are never changed; the only removal is ``delete_entries_before``, for the
retention policy, which never touches an entry younger than a year.

Pupils appear only as their pseudonymous ``pupil_key``; a name, UPN or date of birth is
never written. ``record`` withholds identity columns in ``detail`` and anything shaped like
a UPN, in case a caller passes one by mistake. Entries with no user were made at the
command line.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import duckdb

from empowered.access.users import SignInResult, User
from empowered.identity import IDENTITY_COLUMNS, WITHHELD

# A UPN: a letter then 12 digits, or 12 digits and a letter (a temporary UPN).
_UPN_SHAPE = re.compile(r"\b(?:[A-Za-z]\d{11}[0-9A-Za-z]|\d{12}[A-Za-z])\b")
# A mistyped password pasted into the username box should not live on in the log whole.
_MAX_USERNAME = 64


@dataclass(frozen=True)
class AuditEvent:
    event: ClassVar[str]


@dataclass(frozen=True)
class SignedIn(AuditEvent):
    event: ClassVar[str] = "signed_in"


@dataclass(frozen=True)
class SignInFailed(AuditEvent):
    event: ClassVar[str] = "sign_in_failed"
    username: str
    outcome: str


@dataclass(frozen=True)
class SignedOut(AuditEvent):
    event: ClassVar[str] = "signed_out"


@dataclass(frozen=True)
class LockedOut(AuditEvent):
    event: ClassVar[str] = "locked_out"
    username: str = ""


@dataclass(frozen=True)
class ViewedPupil(AuditEvent):
    event: ClassVar[str] = "viewed_pupil"
    pupil_key: str
    page: str


@dataclass(frozen=True)
class ViewedPage(AuditEvent):
    event: ClassVar[str] = "viewed_page"
    page: str


@dataclass(frozen=True)
class Exported(AuditEvent):
    event: ClassVar[str] = "exported"
    page: str
    what: str
    rows: int


@dataclass(frozen=True)
class Changed(AuditEvent):
    event: ClassVar[str] = "changed"
    what: str
    pupil_key: str | None = None
    detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class AccessRefused(AuditEvent):
    event: ClassVar[str] = "access_refused"
    page: str
    pupil_key: str | None
    reason: str


@dataclass(frozen=True)
class Captured(AuditEvent):
    event: ClassVar[str] = "captured"
    pupil_key: str
    entity: str


@dataclass(frozen=True)
class PasswordReset(AuditEvent):
    event: ClassVar[str] = "password_reset"
    target_user_id: int


@dataclass(frozen=True)
class UserAdded(AuditEvent):
    event: ClassVar[str] = "user_added"
    target_user_id: int
    role: str


@dataclass(frozen=True)
class UserChanged(AuditEvent):
    event: ClassVar[str] = "user_changed"
    target_user_id: int
    what: str


@dataclass(frozen=True)
class RetentionApplied(AuditEvent):
    """Records past their retention period were deleted: how many, per category (counts
    only; which pupils is not kept, since the point was to forget them)."""

    event: ClassVar[str] = "retention_applied"
    deleted: dict[str, int]
    years: dict[str, int]
    # Pupils removed whole (each has its own ``pupil_purged`` entry) and stored import
    # files deleted because they held a row of one of them.
    pupils_purged: int = 0
    files_deleted: int = 0


EVENT_TYPES: dict[str, type[AuditEvent]] = {
    cls.event: cls
    for cls in (
        SignedIn,
        SignInFailed,
        SignedOut,
        LockedOut,
        ViewedPupil,
        ViewedPage,
        Exported,
        Changed,
        AccessRefused,
        Captured,
        PasswordReset,
        UserAdded,
        UserChanged,
        RetentionApplied,
    )
}


@dataclass(frozen=True)
class Imported(AuditEvent):
    """Files imported through the server (upload page or inbox). Counts only: never file
    names (a name can be a pupil's) or contents."""

    event: ClassVar[str] = "imported"
    files: int
    rows_accepted: int
    rows_quarantined: int
    via: str = "upload"


EVENT_TYPES[Imported.event] = Imported


def _withhold(value: Any) -> Any:
    """Identity columns and UPN-shaped strings become "(withheld)", at any depth."""
    if isinstance(value, dict):
        return {
            str(k): WITHHELD if str(k).lower() in IDENTITY_COLUMNS else _withhold(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_withhold(v) for v in value]
    if isinstance(value, str):
        return _UPN_SHAPE.sub(WITHHELD, value)
    return value


def _naive_utc(at: datetime | None) -> datetime:
    at = at or datetime.now(UTC)
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def record(
    con: duckdb.DuckDBPyConnection,
    event: AuditEvent,
    *,
    user: User | None,
    ip: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event to app.audit_log. THE only writer of that table."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    pupil_key = fields.pop("pupil_key", None)
    page = fields.pop("page", None)
    username = user.username if user else fields.get("username")
    if isinstance(username, str):
        username = _UPN_SHAPE.sub(WITHHELD, username[:_MAX_USERNAME])
        if "username" in fields:
            fields["username"] = username
    detail = json.dumps(_withhold(fields), sort_keys=True, default=str) if fields else None
    con.execute(
        'INSERT INTO app.audit_log ("at", user_id, username, role, event, pupil_key, page, '
        "detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            _naive_utc(at),
            user.user_id if user else None,
            username,
            user.role.value if user else None,
            event.event,
            pupil_key,
            page,
            detail,
            ip,
        ],
    )


def sign_in_events(username: str, result: SignInResult) -> list[AuditEvent]:
    """The events a sign-in attempt should leave (record them with ``user=result.user``)."""
    if result.outcome == "ok":
        return [SignedIn()]
    events: list[AuditEvent] = [SignInFailed(username=username, outcome=result.outcome)]
    if result.outcome == "locked":
        events.append(LockedOut(username=username))
    return events


def read_log(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int = 200,
    user_id: int | None = None,
    pupil_key: str | None = None,
    event: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first; ``detail`` comes back as a dict (or None)."""
    conditions, params = ["TRUE"], list[object]()
    for column, value in (("user_id", user_id), ("pupil_key", pupil_key), ("event", event)):
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    params.append(max(0, int(limit)))
    cursor = con.execute(
        'SELECT event_id, "at", user_id, username, role, event, pupil_key, page, detail, ip '
        f"FROM app.audit_log WHERE {' AND '.join(conditions)} "
        "ORDER BY event_id DESC LIMIT ?",
        params,
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        row["at"] = row["at"].replace(tzinfo=UTC)
    return rows


# However short a retention period someone sets, the log of who saw what is kept at least
# this long: a year covers a complaint or a subject access request about this school year.
AUDIT_FLOOR = timedelta(days=366)


def delete_entries_before(
    con: duckdb.DuckDBPyConnection, before: datetime, *, now: datetime | None = None
) -> int:
    """THE one place that removes audit entries: those older than ``before``, for the
    retention policy (``access.retention``). Refuses a cutoff newer than ``AUDIT_FLOOR``
    ago, so no entry younger than a year can be deleted whatever the settings say."""
    cutoff = _naive_utc(before)
    if cutoff > _naive_utc(now) - AUDIT_FLOOR:
        raise ValueError("audit entries younger than a year are never deleted")
    row = con.execute(
        'DELETE FROM app.audit_log WHERE "at" < ? RETURNING event_id', [cutoff]
    ).fetchall()
    return len(row)


@dataclass(frozen=True)
class SessionRejected(AuditEvent):
    """A session cookie the server refused: a bad signature (forged, or signed with an old
    secret), or an id that is unknown, revoked or past its limits. ``repeats`` counts the
    like ones from the same address left out since the last entry (the web app writes at
    most one a minute per address and reason, so a flood cannot bloat the log)."""

    event: ClassVar[str] = "session_rejected"
    reason: str
    repeats: int = 0


EVENT_TYPES[SessionRejected.event] = SessionRejected


@dataclass(frozen=True)
class RefusedImport(AuditEvent):
    """An import refused whole because a row was outside the importer's reach (another
    school's, a trust-wide catalogue). ``reason`` names the row's school or record id,
    never a pupil's identity."""

    event: ClassVar[str] = "import_refused"
    via: str
    file: str
    reason: str
    row: int | None = None
    column: str | None = None
    import_id: int | None = None


@dataclass(frozen=True)
class FailedImport(AuditEvent):
    """An import that could not be done (an unreadable file, a missing column, an error).
    ``reason`` is the kind of problem only: the full message can quote a cell."""

    event: ClassVar[str] = "import_failed"
    via: str
    file: str
    reason: str
    import_id: int | None = None


EVENT_TYPES[RefusedImport.event] = RefusedImport
EVENT_TYPES[FailedImport.event] = FailedImport


@dataclass(frozen=True)
class PupilPurged(AuditEvent):
    """A pupil past every retention period was removed from every layer. What stays is this
    pseudonymous record: their key and how many rows each table held, nothing else."""

    event: ClassVar[str] = "pupil_purged"
    pupil_key: str
    rows: dict[str, int]


@dataclass(frozen=True)
class SubjectAccessExported(AuditEvent):
    """Everything held about one pupil was exported for a subject access request: how many
    tables and rows, never what they held."""

    event: ClassVar[str] = "subject_access_export"
    pupil_key: str
    tables: int
    rows: int


EVENT_TYPES[PupilPurged.event] = PupilPurged
EVENT_TYPES[SubjectAccessExported.event] = SubjectAccessExported
