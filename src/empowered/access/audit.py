"""The audit log: typed events, written by ONE function into an append-only table.

Entries are never changed; the only removal is ``delete_entries_before``, for the
retention policy, which never touches an entry younger than a year.

The log is a hash chain: each entry carries ``prev_hash`` (the previous entry's hash) and
``entry_hash``, SHA-256 over a canonical serialisation of its own fields and ``prev_hash``;
``app.audit_head`` holds the newest entry's id and hash, and ``app.audit_gaps`` the runs the
retention policy removed. ``verify`` walks the chain and names the first entry that does
not fit (docs/audit.md says what this catches and what it cannot).

Pupils appear only as their pseudonymous ``pupil_key``; a name, UPN or date of birth is
never written. ``record`` withholds identity columns in ``detail`` and anything shaped like
a UPN, in case a caller passes one by mistake. Entries with no user were made at the
command line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, ClassVar

import duckdb

from empowered.access.users import SignInResult, User
from empowered.identity import IDENTITY_COLUMNS, WITHHELD
from empowered.warehouse.connection import in_transaction

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


@dataclass(frozen=True)
class SchoolSetUp(AuditEvent):
    """A school added or its details changed (``empowered school add``, the first-run page)."""

    event: ClassVar[str] = "school_set_up"
    school_urn: str
    batch_id: int
    via: str = "command line"


EVENT_TYPES[SchoolSetUp.event] = SchoolSetUp


@dataclass(frozen=True)
class MappingSaved(AuditEvent):
    """A school's column mapping saved from the upload page (its name and school only:
    the headings it names could quote a file)."""

    event: ClassVar[str] = "mapping_saved"
    school_urn: str
    name: str


EVENT_TYPES[MappingSaved.event] = MappingSaved


@dataclass(frozen=True)
class PupilMatchChosen(AuditEvent):
    """A member of staff chose the pupil a batch's quarantined rows meant (or said they
    are not one of the school's pupils: ``pupil_key`` None) on the import page. The way
    the rows named the pupil is not recorded: only the batch it was chosen from and the
    choice's own batch, which holds it."""

    event: ClassVar[str] = "pupil_match_chosen"
    school_urn: str
    batch_id: int  # the import batch whose rows were quarantined
    choice_batch_id: int  # the batch the choice landed as
    pupil_key: str | None
    rows: int


EVENT_TYPES[PupilMatchChosen.event] = PupilMatchChosen


@dataclass(frozen=True)
class ActionAgreed(AuditEvent):
    """An action was agreed for a pupil and given to a member of staff (issue 13, item 3).
    The owner is named by their account reference; the description is in the landed row."""

    event: ClassVar[str] = "action_agreed"
    pupil_key: str
    action_id: str
    batch_id: int
    owner: str  # ``capture.staff_ref`` of the owner's account
    source: str


@dataclass(frozen=True)
class ActionStatusChanged(AuditEvent):
    """An action was marked done or cancelled, or reopened; ``batch_id`` holds the row."""

    event: ClassVar[str] = "action_status_changed"
    pupil_key: str
    action_id: str
    batch_id: int
    status: str


EVENT_TYPES[ActionAgreed.event] = ActionAgreed
EVENT_TYPES[ActionStatusChanged.event] = ActionStatusChanged


@dataclass(frozen=True)
class ProvisionSaved(AuditEvent):
    """A change to provision management landed: a catalogue entry, a group, an enrolment
    (started, ended, moved, measured) or a session register. ``what`` says which, the ids
    which record; the pupil when it is about one. The values are in the landed batch."""

    event: ClassVar[str] = "provision_saved"
    what: str  # intervention, group, enrolment_started, enrolment_ended, enrolment_moved...
    school_urn: str | None
    record_id: str
    batch_ids: tuple[int, ...] = ()
    pupil_key: str | None = None
    rows: int = 1


EVENT_TYPES[ProvisionSaved.event] = ProvisionSaved


@dataclass(frozen=True)
class ContributionAdded(AuditEvent):
    """A visiting professional (or the SENCo) added a note, perhaps with a report, about a
    pupil. The area and the batch it landed as; never the note's words or the file's name
    (either can name the child): the batch holds them, encrypted."""

    event: ClassVar[str] = "contribution_added"
    pupil_key: str
    area: str
    batch_id: int
    with_file: bool


@dataclass(frozen=True)
class ContributionFileOpened(AuditEvent):
    """A contribution's report was downloaded (whose, by its id; not the file's name)."""

    event: ClassVar[str] = "contribution_file_opened"
    pupil_key: str
    contribution_id: str


EVENT_TYPES[ContributionAdded.event] = ContributionAdded
EVENT_TYPES[ContributionFileOpened.event] = ContributionFileOpened


@dataclass(frozen=True)
class ReviewHeld(AuditEvent):
    """The SENCo recorded a plan review meeting (empowered.reviews): which plan, the
    meeting's id and batch, how many outcomes were rated. Never the words written."""

    event: ClassVar[str] = "review_held"
    pupil_key: str
    plan_id: str
    meeting_id: str
    batch_id: int
    outcomes: int


EVENT_TYPES[ReviewHeld.event] = ReviewHeld


@dataclass(frozen=True)
class EhcReviewStepRecorded(AuditEvent):
    """The SENCo recorded a step of an EHC plan's annual review as done (advice
    requested, papers sent, report sent) on a date."""

    event: ClassVar[str] = "ehc_review_step_recorded"
    pupil_key: str
    plan_id: str
    step: str
    done_on: str
    batch_id: int


EVENT_TYPES[EhcReviewStepRecorded.event] = EhcReviewStepRecorded


@dataclass(frozen=True)
class ConcernRecorded(AuditEvent):
    """A safeguarding concern recorded about a pupil: its id and category, never its words."""

    event: ClassVar[str] = "concern_recorded"
    pupil_key: str
    concern_id: str
    category: str


@dataclass(frozen=True)
class ConcernShared(AuditEvent):
    """The DSL shared a concern with a staff account (or acknowledged it: ``act``)."""

    event: ClassVar[str] = "concern_shared"
    pupil_key: str
    concern_id: str
    act: str  # "shared" or "acknowledged"
    target_user_id: int | None = None


@dataclass(frozen=True)
class ConcernOpened(AuditEvent):
    """A concern's words were read (on its page, or in the child's chronology: ``page``)."""

    event: ClassVar[str] = "concern_opened"
    pupil_key: str
    concern_id: str
    page: str


@dataclass(frozen=True)
class CpFileRecorded(AuditEvent):
    """A leaver's child protection file recorded as received by the new school."""

    event: ClassVar[str] = "cp_file_recorded"
    pupil_key: str
    transfer_id: str


for _cls in (ConcernRecorded, ConcernShared, ConcernOpened, CpFileRecorded):
    EVENT_TYPES[_cls.event] = _cls


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


# The hash before the first chained entry.
GENESIS = "0" * 64
# One writer at a time extends the chain, whichever warehouse lock its caller holds (page
# views record under ``recording()``, imports under ``writing()``). Re-entrant, so that a
# caller's ``transaction`` can record inside it.
_CHAIN_LOCK = threading.RLock()
_ENTRY_COLUMNS = (
    "event_id",
    "at",
    "user_id",
    "username",
    "role",
    "event",
    "pupil_key",
    "page",
    "detail",
    "ip",
)


def entry_hash(entry: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the entry's fields (fixed order, JSON, microsecond times) and the
    previous entry's hash: any change to a field or to the order changes it."""
    values: list[Any] = []
    for column in _ENTRY_COLUMNS:
        value = entry[column]
        if isinstance(value, datetime):
            value = _naive_utc(value).isoformat(timespec="microseconds")
        values.append(value)
    values.append(prev_hash)
    canonical = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction that writes audit entries along with other rows (a capture and its
    entry): both land or neither. Holds the chain lock from BEGIN, so the transaction's
    view of the chain's head is the newest one."""
    with _CHAIN_LOCK:
        con.execute("BEGIN TRANSACTION")
        _joined.add(id(con))
        try:
            yield con
            # The entries and the head are written once per transaction, however many
            # entries it holds: the server's short writes of a moment share one (a
            # capture, page views), and every statement under its lock is a wait for
            # the next writer.
            head = _joined.heads.get(id(con))
            if head is not None and head.pending:
                _append_pending(con, head)
            if head is not None and head.moved and head.event_id is not None:
                _set_head(con, head.event_id, head.hashed, exists=head.exists)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            _joined.discard(id(con))
        con.execute("COMMIT")


@dataclass
class _Head:
    """The chain's head as an open ``transaction`` has extended it (not yet written)."""

    event_id: int | None
    hashed: str
    exists: bool
    moved: bool = False
    # Entries recorded in the transaction, written at its end (``_append_pending``).
    pending: list[dict[str, Any]] = field(default_factory=list)


def _append_pending(con: duckdb.DuckDBPyConnection, head: _Head) -> None:
    """Chain the transaction's entries to the head, in the order they were recorded, and
    write them with one statement (their ids from one more)."""
    pending, head.pending = head.pending, []
    ids = sorted(
        int(r[0])
        for r in con.execute(
            "SELECT nextval('app.audit_seq') FROM range(?)", [len(pending)]
        ).fetchall()
    )
    columns: list[list[Any]] = [[] for _ in range(len(_ENTRY_COLUMNS) + 2)]
    prev = head.hashed
    for entry, event_id in zip(pending, ids, strict=True):
        entry["event_id"] = event_id
        hashed = entry_hash(entry, prev)
        for column, value in zip(
            columns, [*(entry[c] for c in _ENTRY_COLUMNS), prev, hashed], strict=True
        ):
            column.append(value)
        prev = hashed
    # THE one insert into the log: every entry ``record`` makes arrives here (at once, or
    # at the end of its ``transaction``), each column a list.
    con.execute(
        'INSERT INTO app.audit_log (event_id, "at", user_id, username, role, event, '
        "pupil_key, page, detail, ip, prev_hash, entry_hash) "
        "SELECT unnest(?::BIGINT[]), unnest(?::TIMESTAMP[]), unnest(?::BIGINT[]), "
        "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
        "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
        "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
        columns,
    )
    head.event_id, head.hashed, head.moved = ids[-1], prev, True


class _Joined(threading.local):
    """The connections (by id) in this thread whose ``transaction`` is open, and the head
    each has read (so a transaction of several entries reads it and writes it once)."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.heads: dict[int, _Head] = {}

    def add(self, key: int) -> None:
        self.ids.add(key)

    def discard(self, key: int) -> None:
        self.ids.discard(key)
        self.heads.pop(key, None)


_joined = _Joined()


def _head(con: duckdb.DuckDBPyConnection) -> tuple[int | None, str, bool]:
    """The newest entry's id and hash, and whether ``app.audit_head`` has its row."""
    row = con.execute("SELECT event_id, entry_hash FROM app.audit_head WHERE one = 1").fetchone()
    if row:
        return int(row[0]), str(row[1]), True
    # No head yet: a new log, or one from before the chain (then it starts at its end).
    last = con.execute(
        "SELECT event_id, entry_hash FROM app.audit_log WHERE entry_hash IS NOT NULL "
        "ORDER BY event_id DESC LIMIT 1"
    ).fetchone()
    return (int(last[0]), str(last[1]), False) if last else (None, GENESIS, False)


def _set_head(con: duckdb.DuckDBPyConnection, event_id: int, hashed: str, *, exists: bool) -> None:
    # A plain UPDATE once the row exists: cheaper than an upsert on every page view.
    if exists:
        con.execute(
            "UPDATE app.audit_head SET event_id = ?, entry_hash = ? WHERE one = 1",
            [event_id, hashed],
        )
    else:
        con.execute("INSERT INTO app.audit_head VALUES (1, ?, ?)", [event_id, hashed])


def record(
    con: duckdb.DuckDBPyConnection,
    event: AuditEvent,
    *,
    user: User | None,
    ip: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event to app.audit_log. THE only writer of that table.

    Inside ``transaction(con)`` the entry commits or rolls back with the caller's rows.
    Inside any other open transaction (an import's, say) the entry is written on a cursor
    of its own and commits at once: a refusal recorded just before a rollback stays, and
    the chain is never extended from a transaction's stale view of it."""
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    pupil_key = fields.pop("pupil_key", None)
    page = fields.pop("page", None)
    username = user.username if user else fields.get("username")
    if isinstance(username, str):
        username = _UPN_SHAPE.sub(WITHHELD, username[:_MAX_USERNAME])
        if "username" in fields:
            fields["username"] = username
    detail = json.dumps(_withhold(fields), sort_keys=True, default=str) if fields else None
    entry: dict[str, Any] = {
        "at": _naive_utc(at),
        "user_id": user.user_id if user else None,
        "username": username,
        "role": user.role.value if user else None,
        "event": event.event,
        "pupil_key": pupil_key,
        "page": page,
        "detail": detail,
        "ip": ip,
    }

    with _CHAIN_LOCK:
        if id(con) in _joined.ids:
            head = _joined.heads.get(id(con))
            if head is None:
                head = _joined.heads[id(con)] = _Head(*_head(con))
            head.pending.append(entry)  # written at the transaction's end
            return
        target = con.cursor() if in_transaction(con) else con
        try:
            target.execute("BEGIN TRANSACTION")
            try:
                # The entry, chained to the head, and the new head (under the chain lock).
                alone = _Head(*_head(target), pending=[entry])
                _append_pending(target, alone)
                assert alone.event_id is not None
                _set_head(target, alone.event_id, alone.hashed, exists=alone.exists)
            except BaseException:
                target.execute("ROLLBACK")
                raise
            target.execute("COMMIT")
        finally:
            if target is not con:
                target.close()


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
    ago, so no entry younger than a year can be deleted whatever the settings say.

    Each run of removed entries leaves a row in ``app.audit_gaps`` (ids, count, the hash
    before the run and the hash of its last entry), so the chain still verifies across it.
    Run it inside the caller's transaction: the gaps and the removal land together."""
    cutoff = _naive_utc(before)
    if cutoff > _naive_utc(now) - AUDIT_FLOOR:
        raise ValueError("audit entries younger than a year are never deleted")
    with _CHAIN_LOCK:
        removed_at = _naive_utc(None)
        for first_id, last_id, entries, prev, last in con.execute(
            _sql("audit_gaps_before"), {"cutoff": cutoff}
        ).fetchall():
            if prev is None or last is None:
                continue  # a run of entries from before the chain: nothing to step over
            con.execute(
                "INSERT INTO app.audit_gaps VALUES (?, ?, ?, ?, ?, ?)",
                [first_id, last_id, entries, prev, last, removed_at],
            )
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


@dataclass(frozen=True)
class BackupTaken(AuditEvent):
    """A backup of the whole warehouse was written (a copy of everything leaves the
    file): the folder, how it was asked for, its size and how long it took."""

    event: ClassVar[str] = "backup_taken"
    via: str
    folder: str
    size_bytes: int
    seconds: float


@dataclass(frozen=True)
class BackupFailed(AuditEvent):
    """A backup that could not be written: the folder and the kind of problem (the full
    reason is in app.backup_log)."""

    event: ClassVar[str] = "backup_failed"
    via: str
    folder: str
    reason: str


EVENT_TYPES[BackupTaken.event] = BackupTaken
EVENT_TYPES[BackupFailed.event] = BackupFailed


def _sql(name: str) -> str:
    return resources.files("empowered.access").joinpath(f"queries/{name}.sql").read_text()


@dataclass(frozen=True)
class Broken:
    """The first entry that does not fit the chain (``event_id`` None: the log's end)."""

    event_id: int | None
    at: datetime | None
    problem: str


@dataclass(frozen=True)
class Verified:
    entries: int  # chained entries checked
    unchained: int  # entries from before the chain existed (not covered)
    gaps: int  # runs removed by the retention policy, stepped over
    head_id: int | None
    head_hash: str | None
    broken: Broken | None
    expected_head_found: bool | None = None  # None: no hash to look for was given

    @property
    def ok(self) -> bool:
        return self.broken is None and self.expected_head_found is not False


def verify(
    con: duckdb.DuckDBPyConnection, *, expect_hash: str | None = None, batch: int = 10_000
) -> Verified:
    """Walk the log oldest first and recompute the chain. Names the first entry whose
    content no longer matches its hash, or whose previous-hash does not lead back to the
    entry before it (or across a retention gap); then checks that the newest entry is
    the recorded head (a deleted tail). ``expect_hash``, a head hash noted earlier
    outside the warehouse, must still be in the chain: that catches a log rewritten whole."""
    gaps: dict[str, list[tuple[int, int, str]]] = {}
    for first_id, last_id, prev, last in con.execute(
        "SELECT first_id, last_id, prev_hash, last_hash FROM app.audit_gaps ORDER BY first_id"
    ).fetchall():
        gaps.setdefault(str(prev), []).append((int(first_id), int(last_id), str(last)))
    head = con.execute("SELECT event_id, entry_hash FROM app.audit_head WHERE one = 1").fetchone()
    head_id, head_hash = (int(head[0]), str(head[1])) if head else (None, None)
    seen = {GENESIS}
    stepped = 0

    def step(expected: str, after: int | None, before: int | None) -> tuple[str, int | None]:
        """Follow retention gaps from ``expected`` while they lie between the two ids."""
        nonlocal stepped
        while True:
            nxt = [
                g
                for g in gaps.get(expected, [])
                if (after is None or g[0] > after) and (before is None or g[1] < before)
            ]
            if not nxt:
                return expected, after
            first, last_id, last_hash = nxt[0]
            stepped += 1
            expected, after = last_hash, last_id
            seen.add(last_hash)

    prev, prev_id = GENESIS, None
    checked = unchained = 0
    cursor = con.execute(
        'SELECT event_id, "at", user_id, username, role, event, pupil_key, page, detail, ip, '
        "prev_hash, entry_hash FROM app.audit_log ORDER BY event_id"
    )
    names = [d[0] for d in cursor.description]
    broken: Broken | None = None
    while broken is None and (rows := cursor.fetchmany(batch)):
        for row in rows:
            entry = dict(zip(names, row, strict=True))
            where = (int(entry["event_id"]), entry["at"])
            if entry["entry_hash"] is None:
                if checked == 0 and prev_id is None:
                    unchained += 1
                    continue
                broken = Broken(*where, "it has no hash: it was added or changed outside the log")
                break
            if entry["prev_hash"] != prev:
                prev, prev_id = step(prev, prev_id, where[0])
            if entry["prev_hash"] != prev:
                broken = Broken(
                    *where,
                    "it does not follow the entry before it: an entry before it was "
                    "deleted, changed or inserted",
                )
                break
            if entry_hash(entry, prev) != entry["entry_hash"]:
                broken = Broken(*where, "its content no longer matches its hash: it was changed")
                break
            prev, prev_id = str(entry["entry_hash"]), where[0]
            seen.add(prev)
            checked += 1
    if broken is None and (checked or head_id is not None):
        end, end_id = step(prev, prev_id, None)
        if head_id is None:
            broken = Broken(None, None, "the record of the newest entry is missing")
        elif end != head_hash or end_id != head_id:
            broken = Broken(
                None,
                None,
                f"the log ends before its newest entry (number {head_id}): entries at the "
                "end were deleted, or the record of the newest entry was changed",
            )
    found = None if expect_hash is None else expect_hash.strip().lower() in seen
    return Verified(checked, unchained, stepped, head_id, head_hash, broken, found)


@dataclass(frozen=True)
class PlanSaved(AuditEvent):
    """A member of staff saved a pupil's plan in the app (a new plan, or a new version of
    one): which plan, which version, how many outcomes; never its text."""

    event: ClassVar[str] = "plan_saved"
    pupil_key: str
    plan_id: str
    version: int
    outcomes: int


@dataclass(frozen=True)
class PlanAgreed(AuditEvent):
    """A member of staff recorded that a pupil's plan was agreed (a new version of it)."""

    event: ClassVar[str] = "plan_agreed"
    pupil_key: str
    plan_id: str
    version: int
    agreed_with: str


EVENT_TYPES[PlanSaved.event] = PlanSaved
EVENT_TYPES[PlanAgreed.event] = PlanAgreed


@dataclass(frozen=True)
class LeavingExported(AuditEvent):
    """Everything one school entered in EmpowerED+ was exported for leaving (the zip
    ``empowered leaving-export`` writes): the school and how many records of each kind,
    never what they held."""

    event: ClassVar[str] = "leaving_export"
    school_urn: str
    pupils: int
    records: int
    counts: str  # "plans 24, reviews 11, ...": kinds with records only


EVENT_TYPES[LeavingExported.event] = LeavingExported


@dataclass(frozen=True)
class PupilSearched(AuditEvent):
    """A search for a pupil (``/pupils?q=``): whether by name or UPN and how many pupils it
    found, never what was typed (a child's name, or part of one)."""

    event: ClassVar[str] = "pupil_search"
    page: str
    by: str  # "name" or "upn"
    results: int


EVENT_TYPES[PupilSearched.event] = PupilSearched


@dataclass(frozen=True)
class DocumentMade(AuditEvent):
    """A document left the app (issue 16): which, about whom, in what format and how many
    pages or rows; never what it said."""

    event: ClassVar[str] = "document_made"
    kind: str  # access.documents.DocumentKind
    format: str  # pdf | xlsx
    pupil_key: str | None = None
    school_urn: str | None = None  # None: the trust
    pages: int = 0
    via: str = "web"  # web | command line | schedule


EVENT_TYPES[DocumentMade.event] = DocumentMade
