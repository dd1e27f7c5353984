"""The short writes a person waits for (a capture, a page view's audit entry), and those
arriving together written together.

They write under the recording lock (``web.warehouse``), and the audit chain has one
writer at a time in any case. Measured with 40 staff saving check-ins at once, most of a
save's time was waiting for that lock, and most of each holder's time was its own BEGIN
and COMMIT. So a write queues itself and takes the lock; whoever holds it runs EVERY write
queued by then in one transaction (a capture with its audit entry, a page view's entry),
and the writers queued behind it find theirs done when their turn comes and return at
once. Under load the lock changes hands once per group instead of once per write; alone,
a write is written alone. Each still returns only once its rows are committed.

Nothing else happens under the lock: a form is checked before, the answer rendered after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import duckdb
from fastapi import FastAPI

from empowered.access import audit as audit_log
from empowered.access import auth_cache
from empowered.sources.landing import BatchIds
from empowered.web.warehouse import Warehouse

T = TypeVar("T")
Write = Callable[[duckdb.DuckDBPyConnection], T]


class _Queued(Generic[T]):
    def __init__(self, write: Write[T]) -> None:
        self.write = write
        self.result: T | None = None
        self.error: Exception | None = None
        # Read and set under the recording lock: the writer has been (``done``), and the
        # transaction holding this write committed (``written``).
        self.done = False
        self.written = False


class Recorder:
    def __init__(self, warehouse: Warehouse) -> None:
        self._warehouse = warehouse
        self._queue: list[_Queued[Any]] = []
        self._queued = threading.Lock()
        # New batch ids for what is written here (captures), drawn before the lock.
        self.batch_ids = BatchIds()

    def write(self, write: Write[T]) -> T:
        """Run ``write(con)`` inside a transaction with the writes queued alongside it
        (``audit.record`` joins it), and return its result once committed. ``write`` must
        only write: it may run again, on its own, when another in its group fails."""
        queued = _Queued(write)
        with self._queued:
            self._queue.append(queued)
        with self._warehouse.recording() as con:
            if not queued.done:
                with self._queued:
                    group, self._queue = self._queue, []
                _run(con, group)
        if queued.error is not None:
            raise queued.error
        if not queued.written:  # the writer stopped half-way (the server shutting down)
            raise RuntimeError("not written")
        return queued.result  # type: ignore[return-value]


def _run(con: duckdb.DuckDBPyConnection, group: list[_Queued[Any]]) -> None:
    try:
        _together(con, group)
    except Exception as err:
        if len(group) == 1:
            group[0].error = err
        else:
            # One write that fails must not fail the others: each again, on its own.
            for queued in group:
                try:
                    _together(con, [queued])
                except Exception as alone:
                    queued.error = alone
    finally:
        for queued in group:
            queued.done = True
        # A sign-in's group may have ended a session: the kept sessions are read again
        # from now on, the commit included (``access.auth_cache``).
        auth_cache.settled()


def _together(con: duckdb.DuckDBPyConnection, group: list[_Queued[Any]]) -> None:
    """One transaction: every write of ``group``, or none of them."""
    with audit_log.transaction(con):
        for queued in group:
            queued.result, queued.error = None, None
            queued.result = queued.write(con)
    for queued in group:
        queued.written = True


_MAKING = threading.Lock()


def recorder(app: FastAPI) -> Recorder:
    """The app's one recorder (one queue for its one recording lock), made on first use."""
    found = getattr(app.state, "recorder", None)
    if found is None:
        with _MAKING:
            found = getattr(app.state, "recorder", None)
            if found is None:
                found = Recorder(app.state.warehouse)
                app.state.recorder = found
    assert isinstance(found, Recorder)
    return found
