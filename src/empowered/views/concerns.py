"""Page data for safeguarding concerns: the designated safeguarding lead's (DSL's) list and
home page items, one concern, the child's chronology, and leavers' child protection files.

As every view service, nothing here decides access: the caller passes the policy's answer
(``may_read``) and a scope. A concern's words and the people present are stored encrypted
(``empowered.concerns``) and are decrypted here only through
``identity.concern_reader(allowed)``, for a reader the policy allowed; functions that list
concerns for a home page never decrypt them at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from empowered.access.users import usernames
from empowered.concerns import CATEGORY_WORDS, CP_FILE_SCHOOL_DAYS
from empowered.identity import concern_reader, identity_reader
from empowered.keys import Keys
from empowered.views import PupilScope, queries
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.provenance import via

# What each kind of chronology entry is called, in the order the filter offers them.
KINDS: dict[str, str] = {
    "concern": "Concern",
    "concern_acknowledged": "Concern acknowledged",
    "concern_shared": "Concern shared",
    "trigger": "Safeguarding trigger",
    "decision": "Decision on a trigger",
    "incident": "Incident",
    "exclusion": "Suspension or exclusion",
    "attendance": "Low attendance week",
    "action": "Action",
    "cp_file": "Child protection file received",
}
LOW_ATTENDANCE = 0.8  # a school week under this is listed (as the pupil timeline does)
# Leavers the reminder looks back over (a year): a file due months ago and never recorded
# is still worth chasing, but not every leaver of past years.
LEAVERS_SINCE_DAYS = 365

MayRead = Callable[[str, frozenset[int]], bool]  # (school_urn, shared with) -> allowed


def staff_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Account references (``capture.staff_ref``) -> the account's username."""
    return {f"app-user-{uid}": name for uid, name in usernames(con).items()}


def _user_id(ref: str | None) -> int | None:
    if ref and ref.startswith("app-user-") and ref[9:].isdigit():
        return int(ref[9:])
    return None


def _minute_text(minute: Any) -> str | None:
    return f"{int(minute) // 60:02d}:{int(minute) % 60:02d}" if minute is not None else None


def who(ref: str | None, names: dict[str, str]) -> str | None:
    """A staff reference as people read it: the username, or "a former account"."""
    if not ref:
        return None
    if ref in names:
        return names[ref]
    return "a former account" if ref.startswith("app-user-") else f"staff member {ref}"


def _names(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, keys: Collection[str], k: Keys | None
) -> dict[str, str]:
    if not keys or not scope.identified:
        return {}
    rows = queries.rows(con, "pupil_names", scope=scope, pupil_keys=sorted(set(keys)))
    return identity_reader(scope, k).names(rows)


@dataclass(frozen=True)
class ConcernSummary:
    """A concern as a list shows it: no words, no people present."""

    concern_id: str
    school_urn: str
    pupil_key: str
    pupil_name: str
    day: date
    time: str | None
    category: str  # in words
    recorded_by: str | None
    acknowledged: bool
    shared_with: tuple[str, ...]  # usernames


@dataclass(frozen=True)
class ConcernAct:
    what: str  # in words
    by: str | None
    at: datetime  # pages write it with |day_time


@dataclass(frozen=True)
class ConcernDetail:
    summary: ConcernSummary
    place: str | None
    text: str
    people_present: str | None
    acts: tuple[ConcernAct, ...]
    shared_ids: frozenset[int]


def _summaries(
    con: duckdb.DuckDBPyConnection,
    rows: list[queries.Row],
    scope: PupilScope,
    keys: Keys | None,
) -> list[ConcernSummary]:
    names = staff_names(con)
    pupils = _names(con, scope, [str(r["pupil_key"]) for r in rows], keys)
    return [
        ConcernSummary(
            str(r["concern_id"]),
            str(r["school_urn"]),
            str(r["pupil_key"]),
            pupils.get(str(r["pupil_key"]), "A pupil"),
            r["concern_on"],
            _minute_text(r["concern_minute"]),
            CATEGORY_WORDS.get(str(r["category"]), "Something else"),
            who(r["recorded_by"], names),
            bool(r["acknowledged"]),
            tuple(str(who(s, names)) for s in (r["shared_with"] or ()) if s),
        )
        for r in rows
    ]


def school_concerns(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    unacknowledged_only: bool = False,
    keys: Keys | None = None,
) -> list[ConcernSummary]:
    """The concerns of the schools in ``scope``, newest first (the DSL's list and home)."""
    rows = queries.rows(con, "concerns_of_school", scope=scope, concern_id=None)
    found = _summaries(con, rows, scope, keys)
    return [c for c in found if not c.acknowledged] if unacknowledged_only else found


def shared_with(
    con: duckdb.DuckDBPyConnection, staff: str, *, scope: PupilScope, keys: Keys | None = None
) -> list[ConcernSummary]:
    """Concerns the DSL shared with the account ``staff``, at the schools in ``scope``.
    The pupil may be outside the account's usual pupils: the share is the DSL's decision."""
    school_wide = PupilScope(scope.schools, None, scope.identified)
    ids = [
        str(r["concern_id"])
        for r in queries.rows(con, "concerns_shared_with", scope=school_wide, staff=staff)
    ]
    rows = [
        r
        for r in queries.rows(con, "concerns_of_school", scope=school_wide, concern_id=None)
        if str(r["concern_id"]) in ids
    ]
    return _summaries(con, rows, school_wide, keys)


_ACTS = {"acknowledged": "Acknowledged", "shared": "Shared with"}


def concern_detail(
    con: duckdb.DuckDBPyConnection,
    concern_id: str,
    *,
    scope: PupilScope,
    may_read: MayRead,
    keys: Keys | None = None,
) -> ConcernDetail | None:
    """One concern with its words, or None when it is not one of the scope's schools' or
    ``may_read`` (the policy's decision for this concern) says no: alike, so a changed id
    reveals nothing."""
    school_wide = PupilScope(scope.schools, None, scope.identified)
    rows = queries.rows(con, "concerns_of_school", scope=school_wide, concern_id=concern_id)
    if not rows:
        return None
    row = rows[0]
    shared_ids = frozenset(
        i for i in (_user_id(s) for s in (row["shared_with"] or ())) if i is not None
    )
    allowed = may_read(str(row["school_urn"]), shared_ids)
    if not allowed:
        return None
    reader = concern_reader(allowed, keys)
    names = staff_names(con)
    acts = tuple(
        ConcernAct(
            _ACTS.get(str(e["event"]), str(e["event"]))
            + (f" {who(e['staff'], names)}" if e["event"] == "shared" else ""),
            who(e["recorded_by"], names),
            _moment(e["recorded_at"]),
        )
        for e in queries.rows(con, "concern_events", scope=school_wide, concern_id=concern_id)
    )
    (summary,) = _summaries(con, [row], school_wide, keys)
    return ConcernDetail(
        summary,
        row["place"],
        reader.text(row["concern_text"]) or "",
        reader.text(row["people_present"]),
        acts,
        shared_ids,
    )


@dataclass(frozen=True)
class ChronologyEntry:
    kind: str
    label: str
    day: date
    time: str | None
    summary: str
    by: str  # who or what recorded it (a username, or the source and file)
    concern_id: str | None = None
    words: str | None = None  # a concern's words, decrypted for the DSL
    people: str | None = None


@dataclass(frozen=True)
class Chronology:
    entries: list[ChronologyEntry]
    kinds: dict[str, int] = field(default_factory=dict)  # how many of each kind in all
    concern_ids: tuple[str, ...] = ()  # the concerns whose words were shown (to audit)


def _summary(kind: str, r: queries.Row, names: dict[str, str], words: str | None) -> str:
    what, detail = r["what"], r["detail"]
    if kind == "concern":
        place = f" ({detail})" if detail else ""
        return f"{CATEGORY_WORDS.get(str(what), 'Something else')}{place}"
    if kind == "concern_shared":
        return f"Shared with {who(detail, names)}"
    if kind == "concern_acknowledged":
        return "Read and acknowledged by the designated safeguarding lead"
    if kind == "trigger":
        return f"{what}: {detail}" if detail else str(what)
    if kind == "decision":
        return f"{str(what).replace('_', ' ').capitalize()}: {detail}" if detail else str(what)
    if kind == "incident":
        level = f", intensity {detail} of 5" if detail else ""
        return f"{str(what).replace('_', ' ').capitalize()}{level}"
    if kind == "exclusion":
        sessions = f" ({detail} sessions)" if detail else ""
        return ("Permanent exclusion" if what == "permanent" else "Suspension") + sessions
    if kind == "attendance":
        return f"Attended {detail}% of the week's sessions"
    if kind == "action":
        return str(detail or "An action")
    if kind == "cp_file":
        sent = f", sent {detail}" if detail else ""
        return f"Received by {words or 'the new school'}{sent}"
    return str(detail or what or "")


def _provenance(r: queries.Row, names: dict[str, str]) -> str:
    person = who(r["recorded_by"], names)
    source, file = r["source"], r["source_file"]
    if person and source and str(source).startswith("app"):
        return f"{person}, in EmpowerED+"
    # The same words for a file as every other provenance line (views.provenance).
    origin = f"imported from {via(str(source), file)[0]}" if source else ""
    if str(source) == "EmpowerED+ trigger rules":
        return "EmpowerED+ trigger rules, from the attendance figures"
    if str(source) == "attendance marks":
        return "Worked out from the attendance marks imported"
    if person:
        return f"{person}; {origin}" if origin else person
    return origin or "Imported"


def chronology(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    *,
    scope: PupilScope,
    may_read: bool,
    kinds: Collection[str] | None = None,
    keys: Keys | None = None,
) -> Chronology:
    """One child's chronology, newest first, filtered to ``kinds`` (None: all). The caller
    passes the policy's answer (``may_read``): without it nothing is read."""
    reader = concern_reader(may_read, keys)
    rows = queries.rows(
        con, "pupil_chronology", scope=scope, pupil_key=pupil_key, low_attendance=LOW_ATTENDANCE
    )
    names = staff_names(con)
    counts: dict[str, int] = {}
    entries: list[ChronologyEntry] = []
    opened: list[str] = []
    for r in rows:
        kind = str(r["kind"])
        counts[kind] = counts.get(kind, 0) + 1
        if kinds and kind not in kinds:
            continue
        words = reader.text(r["secret_text"]) if r["secret_text"] else None
        people = reader.text(r["secret_people"]) if r["secret_people"] else None
        concern_id = str(r["entry_id"]) if kind.startswith("concern") else None
        if kind == "concern" and concern_id:
            opened.append(concern_id)
        entries.append(
            ChronologyEntry(
                kind,
                KINDS.get(kind, kind),
                r["day"],
                _minute_text(r["minute"]),
                _summary(kind, r, names, words),
                _provenance(r, names),
                concern_id,
                words if kind == "concern" else None,
                people,
            )
        )
    return Chronology(entries, counts, tuple(opened))


@dataclass(frozen=True)
class CpFileDue:
    pupil_key: str
    school_urn: str
    pupil_name: str
    leaving_date: date
    due_on: date
    overdue: bool
    from_calendar: bool


def cp_files_due(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    today: date,
    keys: Keys | None = None,
    cache: SchoolAnalyticsCache | None = None,
) -> list[CpFileDue]:
    """Leavers whose child protection file is not yet recorded as received, with the day
    it falls due (the fifth school day after leaving in the school's calendar).

    The leavers are kept per build by ``cache`` when given: they come from built tables
    only (a file recorded as received is built at once), and the DSL's home page asked
    for them on every view (a fifth of its time at a school of 1,500 pupils)."""
    since = today - timedelta(days=LEAVERS_SINCE_DAYS)

    def leavers() -> list[queries.Row]:
        return queries.rows(
            con, "cp_files_due", scope=scope, since=since, school_days=CP_FILE_SCHOOL_DAYS
        )

    rows = (
        cache.per_build(con, "cp_files_due", (scope.schools, scope.pupils, since), leavers)
        if cache is not None
        else leavers()
    )
    pupils = _names(con, scope, [str(r["pupil_key"]) for r in rows], keys)
    return [
        CpFileDue(
            str(r["pupil_key"]),
            str(r["school_urn"]),
            pupils.get(str(r["pupil_key"]), "A pupil"),
            r["leaving_date"],
            r["due_on"],
            r["due_on"] < today,
            bool(r["from_calendar"]),
        )
        for r in rows
    ]


def _moment(value: object) -> datetime:
    """When a concern event was recorded, stored as a timestamp or as ISO text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
