"""What the actions pages show: actions with their pupil, owner, due date and status in
words, overdue first, and one action's history. Nothing here decides access: the web
layer asks the policy which schools and owner to read, and whether names may be shown;
nothing here writes (landing is :mod:`empowered.actions`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from empowered.access.roles import Role
from empowered.access.users import User, usernames
from empowered.action_words import KIND_LABELS, SOURCE_LABELS, STATUS_LABELS, owner_role_words
from empowered.analytics.wording import day_text
from empowered.identity import identity_reader
from empowered.keys import Keys
from empowered.views import PupilScope, queries

# Roles an action may be given to (the policy's OWN_ACTIONS decides; this only orders).
OWNER_ROLES = (Role.SENCO, Role.DSL, Role.TEACHER, Role.TEACHING_ASSISTANT)


def owner_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each account's staff reference ("app-user-N") -> its username, for the pages."""
    try:
        users = usernames(con)
    except duckdb.CatalogException:  # no accounts table yet (a warehouse built alone)
        return {}
    return {f"app-user-{uid}": name for uid, name in users.items()}


def school_staff(users: Iterable[User], school_urn: str) -> list[User]:
    """The active staff accounts among ``users`` at the school an action could be given
    to, by role then username (the policy then keeps those who may see the pupil)."""
    order = {r: i for i, r in enumerate(OWNER_ROLES)}
    found = [u for u in users if u.school_urn == school_urn and not u.disabled and u.role in order]
    return sorted(found, key=lambda u: (order[u.role], u.username.casefold()))


@dataclass(frozen=True)
class ActionItem:
    action_key: str
    action_id: str
    pupil_key: str
    school_urn: str
    pupil_name: str | None  # None: the reader may not see this pupil's name
    kind: str | None
    description: str
    owner: str | None  # staff reference
    owner_name: str  # the account's username, or the imported owner's role in words
    raised_on: date | None
    raised_by_name: str | None
    source: str
    due_date: date | None
    status: str
    status_by_name: str | None
    status_at: datetime | None
    ref: str | None
    overdue: bool

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind or "", "Action")

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, "Agreed")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def due_text(self) -> str:
        return day_text(self.due_date) if self.due_date else "no due date"

    @property
    def days_overdue(self) -> int:
        return (self.overdue_today - self.due_date).days if self.overdue and self.due_date else 0

    overdue_today: date = date.min


@dataclass(frozen=True)
class HistoryEntry:
    status_label: str
    by_name: str | None
    at: datetime | None
    due_date: date | None
    owner_name: str | None
    first: bool


def _words(code: Any) -> str:
    return str(code).replace("_", " ") if code else ""


def _items(
    rows: Iterable[Mapping[str, Any]],
    *,
    reader_scope: PupilScope,
    names: Mapping[str, str],
    today: date,
    keys: Keys | None,
) -> list[ActionItem]:
    reader = identity_reader(reader_scope, keys) if reader_scope.identified else None
    items = []
    for r in rows:
        pupil, school = str(r["pupil_key"]), str(r["school_urn"])
        shown = reader is not None and reader_scope.admits(pupil, school)
        owner = r["owner"]
        due = r["due_date"]
        items.append(
            ActionItem(
                action_key=str(r["action_key"]),
                action_id=str(r["action_id"]),
                pupil_key=pupil,
                school_urn=school,
                pupil_name=(reader.name(r) or None) if shown and reader else None,
                kind=r["kind"],
                description=str(r["description"] or "").strip() or "No description recorded",
                owner=owner,
                owner_name=names.get(str(owner), "a former account")
                if owner
                else (owner_role_words(r["owner_role"]) or "no owner recorded"),
                raised_on=r["raised_on"],
                raised_by_name=names.get(str(r["raised_by"])) if r["raised_by"] else None,
                source=str(r["source"] or ""),
                due_date=due,
                status=str(r["status"]),
                status_by_name=names.get(str(r["status_by"])) if r["status_by"] else None,
                status_at=r["status_at"],
                ref=r["ref"],
                overdue=bool(r["is_open"]) and isinstance(due, date) and due < today,
                overdue_today=today,
            )
        )
    # Open and overdue first (longest overdue first), then open by due date, then closed.
    return sorted(
        items,
        key=lambda a: (
            not a.is_open,
            not a.overdue,
            a.due_date or date.max,
            a.action_key,
        ),
    )


def list_actions(
    con: duckdb.DuckDBPyConnection,
    *,
    schools: frozenset[str] | None,
    owner: str | None,
    reader_scope: PupilScope,
    today: date,
    keys: Keys | None = None,
    pupil_key: str | None = None,
) -> list[ActionItem]:
    """The actions at ``schools`` (None: every school), only ``owner``'s and only about
    ``pupil_key`` if given. Names are shown for pupils ``reader_scope`` admits, when it may
    see names at all."""
    try:
        rows = queries.rows(
            con,
            "actions_list",
            schools=None if schools is None else sorted(schools),
            owner=owner,
            pupil_key=pupil_key,
            action_key=None,
        )
    except duckdb.CatalogException:  # never built
        return []
    return _items(rows, reader_scope=reader_scope, names=owner_names(con), today=today, keys=keys)


def one_action(
    con: duckdb.DuckDBPyConnection,
    action_key: str,
    *,
    schools: frozenset[str] | None,
    reader_scope: PupilScope,
    today: date,
    keys: Keys | None = None,
) -> ActionItem | None:
    """One action at ``schools``, or None (unknown and elsewhere alike)."""
    rows = queries.rows(
        con,
        "actions_list",
        schools=None if schools is None else sorted(schools),
        owner=None,
        pupil_key=None,
        action_key=action_key,
    )
    found = _items(rows, reader_scope=reader_scope, names=owner_names(con), today=today, keys=keys)
    return found[0] if found else None


def action_row(con: duckdb.DuckDBPyConnection, action_key: str) -> dict[str, Any] | None:
    """The action's current row as stored (what a status change copies)."""
    rows = queries.rows(
        con, "actions_list", schools=None, owner=None, pupil_key=None, action_key=action_key
    )
    return rows[0] if rows else None


def action_history(con: duckdb.DuckDBPyConnection, action_key: str) -> list[HistoryEntry]:
    names = owner_names(con)
    out = []
    for r in queries.rows(con, "action_history", action_key=action_key):
        out.append(
            HistoryEntry(
                status_label=STATUS_LABELS.get(str(r["status"]), str(r["status"])),
                by_name=names.get(str(r["status_by"])) if r["status_by"] else None,
                at=r["status_at"],
                due_date=r["due_date"],
                owner_name=names.get(str(r["owner"])) if r["owner"] else None,
                first=r["version_number"] == 1,
            )
        )
    return out


@dataclass(frozen=True)
class Filters:
    owner: str | None = None  # a staff reference
    status: str | None = None  # open (default), done, cancelled, or "all"
    kind: str | None = None
    overdue: bool = False
    pupil: str | None = None


def apply_filters(items: Sequence[ActionItem], f: Filters) -> list[ActionItem]:
    status = f.status or "open"
    return [
        a
        for a in items
        if (status == "all" or a.status == status)
        and (f.owner is None or a.owner == f.owner)
        and (f.kind is None or a.kind == f.kind)
        and (not f.overdue or a.overdue)
        and (f.pupil is None or a.pupil_key == f.pupil)
    ]
