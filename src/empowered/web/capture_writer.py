"""Writing captures: each save's own row and audit entry, and saves that arrive together
written together.

A save writes under the recording lock (``web.warehouse``), as every page's audit entry,
sign-in and note does, and the audit chain has one writer at a time in any case. Measured
with 40 staff saving at once, most of a save's time was waiting for that lock, and a good
part of each holder's time was its own BEGIN and COMMIT. So a save queues what it will
write and takes the lock; whoever holds it writes EVERY save queued by then, in one
transaction (each capture with its audit entry, all or none), and the saves queued behind
it find theirs written when their turn comes and return at once. Under load the lock
changes hands once per group instead of once per save; alone, a save is written alone.

Nothing else happens under the lock: the form is checked before, the answer rendered and
the rebuild scheduled after (``web.capture``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import duckdb
from fastapi import FastAPI

from empowered.access import audit as audit_log
from empowered.access.audit import Captured
from empowered.access.users import User
from empowered.keys import Keys
from empowered.sources import capture as cap
from empowered.web.warehouse import Warehouse


@dataclass
class Pending:
    """One save: what to land and who made it. The writer fills in the outcome."""

    kind: cap.Kind
    checked: cap.Checked
    school_urn: str
    upn: str
    staff: str
    key: str | None
    now: datetime
    keys: Keys
    event: Captured
    user: User
    ip: str | None
    saved: cap.Saved | None = None  # None after writing: the form had been saved before
    error: Exception | None = None
    done: bool = False  # written (or failed); read and set under the recording lock


class CaptureWriter:
    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        self._queue: list[Pending] = []
        self._queued = threading.Lock()

    def save(self, pending: Pending) -> cap.Saved | None:
        """Land ``pending`` with its audit entry; None when its form was saved before.
        Returns once they are committed (by this thread or the one before it)."""
        with self._queued:
            self._queue.append(pending)
        with self._warehouse.recording() as con:
            if not pending.done:
                with self._queued:
                    group, self._queue = self._queue, []
                self._write(con, group)
        if pending.error is not None:
            raise pending.error
        return pending.saved

    def _write(self, con: duckdb.DuckDBPyConnection, group: list[Pending]) -> None:
        try:
            _write_together(con, group)
        except Exception as err:
            if len(group) == 1:
                group[0].error = err
            else:
                # One bad save must not fail the others: each again, on its own.
                for pending in group:
                    try:
                        _write_together(con, [pending])
                    except Exception as alone:
                        pending.error = alone
        finally:
            for pending in group:
                pending.done = True


def _write_together(con: duckdb.DuckDBPyConnection, group: list[Pending]) -> None:
    """One transaction: every capture of ``group`` with its audit entry, or none of them."""
    with audit_log.transaction(con):
        for p in group:
            p.saved, p.error = None, None
            # A retried post (same person, same form key) lands nothing: it was saved the
            # first time, perhaps earlier in this very transaction.
            if p.key is not None and cap.already_saved(con, staff=p.staff, key=p.key):
                continue
            p.saved = cap.land_capture(
                con,
                p.kind,
                p.checked,
                school_urn=p.school_urn,
                upn=p.upn,
                staff=p.staff,
                keys=p.keys,
                now=p.now,
                key=p.key,
            )
            audit_log.record(con, p.event, user=p.user, ip=p.ip)


_MAKING = threading.Lock()


def writer(app: FastAPI) -> CaptureWriter:
    """The app's one capture writer (one queue for its one recording lock), made on first
    use."""
    found = getattr(app.state, "capture_writer", None)
    if found is None:
        with _MAKING:
            found = getattr(app.state, "capture_writer", None)
            if found is None:
                found = CaptureWriter(app.state.warehouse)
                app.state.capture_writer = found
    assert isinstance(found, CaptureWriter)
    return found
