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


class Warehouse:
    def __init__(self, path: Path, *, threads: int | None = None, memory_limit: str | None = None):
        self.path = path
        self._con = open_warehouse(path, threads=threads, memory_limit=memory_limit)
        self.write_lock = threading.Lock()
        self.record_lock = threading.Lock()
        self.closed = False
        # Moves each time a build or import releases the write lock (all of its commits
        # done): what is kept from the marts between requests is kept per version
        # (the scopes in ``access.auth_cache``).
        self.data_version = 0

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one request (DuckDB cursors are safe across threads)."""
        cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.write_lock, self.reading() as cursor:
            try:
                yield cursor
            finally:
                self.data_version += 1

    @contextmanager
    def recording(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.record_lock, self.reading() as cursor:
            yield cursor

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
