"""Whole-school analytics, computed once per school per warehouse build and reused.

"What helps" and "harder situations" are judged over a whole school at once (their
false-discovery control and shrinkage need every child's results), which takes seconds on
a large school: far too slow for each page view. Results are cached per school and keyed
on the latest build recorded in ``meta.model_runs``: a new build (or import, which
rebuilds) changes the key and the old results are dropped.

The cache holds pseudonymous analytics results only, never identity fields.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import duckdb

from empowered.analytics.early_signs import Alert, load_alerts
from empowered.analytics.situations import HarderSituation, load_harder_situations
from empowered.analytics.strategies import StrategyEffect, load_strategy_effects
from empowered.analytics.triggers import QueueItem, review_queue
from empowered.views import queries

T = TypeVar("T")


def build_id(con: duckdb.DuckDBPyConnection) -> str:
    """The latest build's run id and finish time: changes whenever the marts are rebuilt."""
    found = queries.rows(con, "build_id")
    row = found[0] if found else {}
    return f"{row.get('run_id')}@{row.get('finished_at')}"


class SchoolAnalyticsCache:
    """Per-school analytics results for the current warehouse build.

    Safe to share between threads: each (build, kind, school) is computed once, by the
    first request that needs it, while other schools' requests carry on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._build: str | None = None
        self._values: dict[Hashable, Any] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.computed = 0  # how many results were computed (not served from the cache)

    def _get(self, con: duckdb.DuckDBPyConnection, key: Hashable, make: Callable[[], T]) -> T:
        current = build_id(con)
        with self._lock:
            if current != self._build:
                self._build = current
                self._values.clear()
                self._key_locks.clear()
            if key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values and self._build == current:
                    return self._values[key]  # type: ignore[no-any-return]
            value = make()
            with self._lock:
                if self._build == current:
                    self._values[key] = value
                    self.computed += 1
            return value

    def strategy_effects(
        self, con: duckdb.DuckDBPyConnection, school_urn: str
    ) -> list[StrategyEffect]:
        return self._get(
            con,
            ("strategy_effects", school_urn),
            lambda: load_strategy_effects(con, school_urn=school_urn),
        )

    def harder_situations(
        self, con: duckdb.DuckDBPyConnection, school_urn: str
    ) -> list[HarderSituation]:
        return self._get(
            con,
            ("harder_situations", school_urn),
            lambda: load_harder_situations(con, school_urn=school_urn),
        )

    def alerts(self, con: duckdb.DuckDBPyConnection, school_urn: str) -> list[Alert]:
        return self._get(
            con, ("alerts", school_urn), lambda: load_alerts(con, school_urn=school_urn)
        )

    def review_queue(self, con: duckdb.DuckDBPyConnection, school_urn: str) -> list[QueueItem]:
        return self._get(
            con,
            ("review_queue", school_urn),
            lambda: review_queue(con, school_urn=school_urn, alerts=self.alerts(con, school_urn)),
        )

    def warm(self, con: duckdb.DuckDBPyConnection, school_urns: list[str]) -> None:
        """Compute the pupil page's and the home page's whole-school results ahead of the
        first request (for example after a build, or at start-up)."""
        for school in school_urns:
            self.strategy_effects(con, school)
            self.harder_situations(con, school)
            self.review_queue(con, school)  # computes the school's alerts on the way


DEFAULT_CACHE = SchoolAnalyticsCache()
