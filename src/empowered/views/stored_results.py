"""Whole-school analytics results kept in the warehouse, so a restart does not redo them.

Computing a large school's analytics takes seconds (``views/cache.py``); twenty schools
took the server most of a minute at every start. Each result is stored in
``app.analytics_results`` with the fingerprint of the inputs it was computed from
(``views/inputs.py``): a result is read back only for exactly those inputs, so a school
whose data changed is computed again and one whose data did not is reused, after a
restart as after a rebuild. :meth:`ResultStore.prune` deletes what no longer matches, so a
retention purge or an erasure leaves no older result behind.

Values are pickled and compressed. Reading them back goes through an unpickler that only
builds the project's own result classes and plain values (numbers, dates, numpy arrays):
whoever could write the table could write the warehouse anyway, but a stored row must not
be able to run code.
"""

from __future__ import annotations

import io
import logging
import pickle
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import duckdb

from empowered.views import queries

log = logging.getLogger(__name__)

Writer = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
TRUST = ""  # the school_urn under which the whole trust's results are kept
# Kinds no longer stored, deleted at the next prune: "harder_situations" kept every context
# compared (about 50 MB for a trust); "harder_standing" keeps what the pages show.
RETIRED_KINDS = ("harder_situations",)

_SAFE_MODULES = ("empowered.", "numpy", "datetime", "decimal")
_SAFE_BUILTINS = frozenset({"frozenset", "set", "complex", "slice", "range", "bytearray"})


class _Unpickler(pickle.Unpickler):
    """Builds only the project's classes and plain values."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name in _SAFE_BUILTINS:
            return super().find_class(module, name)
        if module.startswith(_SAFE_MODULES) or module in _SAFE_MODULES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a stored result may not build {module}.{name}")


def dumps(value: object) -> bytes:
    return zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)


def loads(data: bytes) -> Any:
    return _Unpickler(io.BytesIO(zlib.decompress(data))).load()


class Missing:
    """No stored result for these inputs."""


MISSING = Missing()


class ResultStore:
    """Reads through the caller's cursor; writes through ``writer`` (the server's short-write
    lock, ``Warehouse.recording``), one small transaction per result."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._ready = False

    def _ensure(self, con: duckdb.DuckDBPyConnection) -> None:
        if not self._ready:
            con.execute(queries.sql("analytics_results_create"))
            self._ready = True

    def load(
        self, con: duckdb.DuckDBPyConnection, kind: str, school: str | None, inputs: str
    ) -> Any:
        """The stored result, or :data:`MISSING`."""
        try:
            found = queries.rows(
                con,
                "analytics_result_load",
                kind=kind,
                school_urn=school or TRUST,
                inputs=inputs,
            )
        except duckdb.CatalogException:  # never stored anything
            return MISSING
        if not found:
            return MISSING
        try:
            return loads(found[0]["value"])
        except Exception as err:  # a result of an older version: computed again
            log.info("analytics cache: a stored result could not be read (%s)", type(err).__name__)
            return MISSING

    def load_kinds(
        self, con: duckdb.DuckDBPyConnection, kinds: Sequence[str]
    ) -> list[tuple[str, str | None, str, bytes]]:
        """Every stored result of ``kinds``: (kind, school or None, inputs, data for
        :func:`loads`)."""
        try:
            found = queries.rows(con, "analytics_results_of_kinds", kinds=list(kinds))
        except duckdb.CatalogException:
            return []
        return [
            (str(r["kind"]), str(r["school_urn"]) or None, str(r["inputs"]), bytes(r["value"]))
            for r in found
        ]

    def save(self, kind: str, school: str | None, inputs: str, value: object) -> None:
        """Keep a result; a failure to store only costs the next start a computation."""
        data = dumps(value)
        params = {"kind": kind, "school_urn": school or TRUST}
        try:
            with self._writer() as con:
                self._ensure(con)
                con.execute("begin transaction")
                try:
                    con.execute(queries.sql("analytics_result_drop"), params)
                    con.execute(
                        queries.sql("analytics_result_insert"),
                        {**params, "inputs": inputs, "value": data},
                    )
                    con.execute("commit")
                except Exception:
                    con.execute("rollback")
                    raise
        except duckdb.Error as err:
            log.warning("analytics cache: a result was not stored (%s)", type(err).__name__)

    def prune(self, current: Mapping[str | None, str], schools: Iterable[str]) -> None:
        """Delete stored results whose inputs are no longer the current ones, and those of
        schools no longer in the warehouse. ``current`` maps each school (None: the trust)
        to its inputs' fingerprint."""
        try:
            with self._writer() as con:
                self._ensure(con)
                # One transaction, one commit: the writer's lock is the one every save and
                # page view's audit entry waits for.
                con.execute("begin transaction")
                try:
                    for school, inputs in current.items():
                        con.execute(
                            queries.sql("analytics_results_stale"),
                            {"school_urn": school or TRUST, "inputs": inputs},
                        )
                    con.execute(
                        queries.sql("analytics_results_gone"),
                        {"school_urns": [TRUST, *sorted(schools)]},
                    )
                    con.execute(
                        queries.sql("analytics_results_retired"), {"kinds": list(RETIRED_KINDS)}
                    )
                    con.execute("commit")
                except Exception:
                    con.execute("rollback")
                    raise
        except duckdb.Error as err:
            log.warning("analytics cache: stored results not pruned (%s)", type(err).__name__)
