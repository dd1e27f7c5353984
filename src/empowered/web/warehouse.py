"""The server owns the warehouse file.

DuckDB lets one process write a database file, so the web server opens it once at start
and every request takes a cursor from that connection; a CLI command run while the server
holds the file is told so (``cli._open``). Imports arriving while the server runs (the
upload page, the inbox) go through the same connection.

Two kinds of write, two locks:
- ``writing()``: imports and model builds, which replace whole tables and take seconds;
  one at a time.
- ``recording()``: the short writes a person waits for (an audit entry on every page view,
  a sign-in, a capture, a trigger review, a note). They append to or update tables no build
  replaces (``app.*``, and raw, which only ever gains rows), so DuckDB lets them commit while
  a build runs; their own lock keeps them in order with each other. Were they to wait for
  the build lock, every page would stall for the length of a rebuild. Captures and page
  views' audit entries queued for it at the same moment share one transaction
  (``web.recorder``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.upgrade import BackupHook

# The log is folded at a quiet moment once it is past DuckDB's own default limit.
FOLD_LOG_BYTES = 16 * 1024 * 1024


class Warehouse:
    def __init__(
        self,
        path: Path,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
        backup: BackupHook | None = None,
    ):
        self.path = path
        # ``backup``: how a file made by an older release is backed up before its upgrade.
        self._con = open_warehouse(path, threads=threads, memory_limit=memory_limit, backup=backup)
        self.write_lock = threading.Lock()
        self.record_lock = threading.Lock()
        self.closed = False
        # What is kept from the marts between requests (the scopes in ``access.auth_cache``,
        # a capture's pupil) is kept per version of the tables it read (``version_of``).
        # A write lock released moves every table's version (all of its commits done),
        # or only those of the tables the writer says it wrote (a rebuild: its models).
        self.data_version = 0
        self._table_versions: dict[str, int] = {}

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one request (DuckDB cursors are safe across threads)."""
        cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @contextmanager
    def writing(self, *, tables: set[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """The write lock and a cursor. A caller that fills ``tables`` with every table it
        wrote (schema-qualified) moves only their versions, if it finishes without error;
        any other write moves every version."""
        with self.write_lock, self.reading() as cursor:
            finished = False
            try:
                yield cursor
                finished = True
            finally:
                if finished and tables is not None:
                    for table in tables:
                        self._table_versions[table] = self._table_versions.get(table, 0) + 1
                else:
                    self.data_version += 1

    def version_of(self, *tables: str) -> tuple[int, ...]:
        """The version of what ``tables`` hold: read it BEFORE reading them, so that a
        write finishing meanwhile leaves what was read under an older version."""
        return (self.data_version, *(self._table_versions.get(t, 0) for t in tables))

    @contextmanager
    def recording(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.record_lock, self.reading() as cursor:
            yield cursor

    def fold_log(self, at_least: int = FOLD_LOG_BYTES) -> bool:
        """Fold the write-ahead log into the file (a checkpoint) when it has grown past
        ``at_least`` bytes and nothing is writing: called at a quiet moment, so the commit
        of an import or a capture does not pay for it (warehouse.connection). True if
        folded. Holds both locks, so no import, build or capture is half-way through."""
        wal = self.path.with_name(self.path.name + ".wal")
        try:
            if wal.stat().st_size < at_least:
                return False
        except FileNotFoundError:
            return False
        if not self.write_lock.acquire(blocking=False):
            return False  # an import or a build is running: its own end will come here
        try:
            if self.closed:
                return False
            with self.record_lock, self.reading() as cursor:
                try:
                    cursor.execute("CHECKPOINT")
                except duckdb.TransactionException:
                    return False  # DuckDB would not fold now; the next quiet moment will
                return True
        finally:
            self.write_lock.release()

    def close(self, timeout: float = 300.0) -> None:
        """Close the file once what is running has finished: a build or import in progress
        (a capture's rebuild, an upload) holds the write lock, and a background read (cache
        warming) keeps the connection busy until its query ends."""
        self.closed = True
        deadline = time.monotonic() + timeout
        held = self.write_lock.acquire(timeout=timeout)
        try:
            while True:
                try:
                    self._con.close()
                    return
                except duckdb.Error:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            if held:
                self.write_lock.release()
