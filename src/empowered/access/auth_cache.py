"""What every request's sign-in check reads, kept in the server's memory until it changes.

Each request used to read its session, its account, the account's links and the pupil keys
of its scope from DuckDB: four or five statements, the largest share of a capture's CPU
with forty staff saving at once (py-spy). :class:`AuthCache` keeps what they returned.

Why the server may trust its memory: DuckDB lets one process hold a warehouse file for
writing, and the server holds it for as long as it runs. A command-line writer (``empowered
user ...``) cannot even open the file meanwhile (``cli._open`` says so and stops), so while
the server runs every write to ``app.sessions``, ``app.users`` and the link tables is its
own, made by the functions of ``access.sessions`` and ``access.users``, and each of them
calls :func:`changed`. (Were a second writer ever possible, a version row read per request
would be needed instead; a test checks that every writing function there calls it.)

How a change is seen: one counter for the process (:func:`generation`). Every entry keeps
the counter it was read under and is read again once the counter has moved, so a sign-out,
a password change, a role, scope or link changed, or an account switched off takes effect
on the very next request, for every account (writes to accounts are rare; reads are every
request). A write inside a transaction moves the counter at once and again when the
transaction has ended (:func:`settled`): a request reading between the two would otherwise
keep the old rows under the new counter.

Nothing is decided here. The idle and absolute limits are judged on every request from the
kept times (``sessions.judge``), and the scope is ``policy.scope_for``'s, kept for the same
inputs only: the same account (as read), the same day and the same marts (the version of
the tables it reads, which moves when a build or an import writing them releases the
warehouse's write lock: ``Warehouse.version_of``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:  # imported where used: those modules call changed() and import this one
    from empowered.access.policy import Scope
    from empowered.access.sessions import Check, Stored
    from empowered.access.users import User

Cursor = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]

_lock = threading.Lock()
_generation = 0
_local = threading.local()
KEPT = 10_000  # entries of each kind (sessions, accounts, scopes): far more than are live


def generation() -> int:
    return _generation


def changed() -> None:
    """Call right after writing ``app.sessions``, ``app.users`` or a link table: every
    entry kept so far is read again. Inside a transaction, call :func:`settled` once it
    has ended too (``web.recorder`` does)."""
    global _generation
    with _lock:
        _generation += 1
    _local.unsettled = True


def settled() -> None:
    """A transaction on this thread has committed or rolled back: if it wrote accounts or
    sessions, move the counter again, past any entry read before the commit."""
    if getattr(_local, "unsettled", False):
        _local.unsettled = False
        changed()
        _local.unsettled = False


class _Kept:
    """The last ``size`` entries by key, each with the generation it was read under."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._values.get(key)
            if found is None or found[0] != _generation:
                return None
            self._values.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, read_under: int, value: Any) -> None:
        with self._lock:
            self._values[key] = (read_under, value)
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def update(self, key: Hashable, change: Callable[[Any], Any]) -> None:
        """Change a kept entry in place (keeping its generation), if it is still kept."""
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values[key] = (found[0], change(found[1]))


@dataclass(frozen=True)
class _ScopeEntry:
    user: User
    today: date
    data_version: Hashable
    scope: Scope


class AuthCache:
    """One server's sessions, accounts and scopes, as last read (safe across threads).

    ``clock`` gives the time the session limits are judged at (UTC); tests move it on."""

    def __init__(self, size: int = KEPT, clock: Callable[[], datetime] | None = None) -> None:
        self._sessions = _Kept(size)
        self._users = _Kept(size)
        self._scopes = _Kept(size)
        self._accounts = _Kept(1)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.reads = 0  # how many times the warehouse was asked (for tests and benchmarks)

    def check_session(self, reading: Cursor, session_id: str) -> tuple[Check, bool]:
        """``sessions.check`` from the kept row: whether the session is live now, and
        whether its last-seen time is due a write (:meth:`touch`)."""
        from empowered.access import sessions

        key = sessions.digest(session_id)
        stored: Stored | None = self._sessions.get(key)
        if stored is None:
            read_under = _generation
            with reading() as con:
                stored = sessions.read(con, session_id)
            self.reads += 1
            if stored is not None:  # an unknown id is not kept: it is refused either way
                self._sessions.put(key, read_under, stored)
        return sessions.judge(stored, now=self.clock())

    def touch(self, recording: Cursor, session_id: str) -> None:
        """Write that the session was used now, and keep the same time."""
        from empowered.access import sessions

        at = self.clock().astimezone(UTC).replace(tzinfo=None)
        with recording() as con:
            sessions.touch(con, session_id, now=at)
        self._sessions.update(
            sessions.digest(session_id),
            lambda kept: kept if kept.revoked_at is not None else replace(kept, seen=at),
        )

    def user(self, reading: Cursor, user_id: int) -> User | None:
        """``users.get_user``, as last read."""
        from empowered.access.users import get_user

        found: User | None = self._users.get(user_id)
        if found is None:
            read_under = _generation
            with reading() as con:
                found = get_user(con, user_id)
            self.reads += 1
            if found is not None:
                self._users.put(user_id, read_under, found)
        return found

    def accounts(self, reading: Cursor) -> tuple[User, ...]:
        """``users.list_users``, as last read: the trigger queue's action form lists the
        school's staff on every view."""
        from empowered.access.users import list_users

        found: tuple[User, ...] | None = self._accounts.get("every account")
        if found is None:
            read_under = _generation
            with reading() as con:
                found = tuple(list_users(con))
            self.reads += 1
            self._accounts.put("every account", read_under, found)
        return found

    def scope(self, reading: Cursor, user: User, *, today: date, data_version: Hashable) -> Scope:
        """``policy.scope_for(user, today)``, kept for the same account, day and marts
        (``data_version``: the version of ``policy.SCOPE_TABLES``, read before calling)."""
        from empowered.access.policy import scope_for

        kept: _ScopeEntry | None = self._scopes.get(user.user_id)
        if (
            kept is not None
            and kept.user == user
            and kept.today == today
            and kept.data_version == data_version
        ):
            return kept.scope
        read_under = _generation
        with reading() as con:
            scope = scope_for(con, user, today=today)
        self.reads += 1
        self._scopes.put(user.user_id, read_under, _ScopeEntry(user, today, data_version, scope))
        return scope
