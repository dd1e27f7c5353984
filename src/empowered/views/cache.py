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
import time
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import duckdb

from empowered.analytics.early_signs import Alert, load_alerts
from empowered.analytics.impact import ProvisionOverview, provision_overview
from empowered.analytics.register import (
    AttendanceWithoutPlan,
    NationalComparison,
    NeedProvision,
    TrainingAgainstNeed,
    attendance_without_plan,
    compare_with_national,
    provision_against_need,
    training_against_need,
)
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


def _run_of(build: str | None) -> int:
    """The run id a build id starts with (-1 for no build), to tell older from newer."""
    head = (build or "").split("@", 1)[0]
    return int(head) if head.isdigit() else -1


# How long a connection's build id is trusted without asking again: one page's worth.
BUILD_CHECK_SECONDS = 1.0


class SchoolAnalyticsCache:
    """Per-school analytics results for the current warehouse build.

    Safe to share between threads: each (build, kind, school) is computed once, by the
    first request that needs it, while other schools' requests carry on.

    The build is asked of each connection (a request's cursor) once per
    ``BUILD_CHECK_SECONDS``, not once per result: a trust-wide home page needs some sixty
    results, and each question to the database costs milliseconds on a busy server. A
    connection still reading an older build never evicts a newer build's results.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._build: str | None = None
        self._values: dict[Hashable, Any] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._seen: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, tuple[float, str]] = (
            weakref.WeakKeyDictionary()
        )
        self.computed = 0  # how many results were computed (not served from the cache)

    def _current(self, con: duckdb.DuckDBPyConnection) -> str:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(con)
        if seen is not None and now - seen[0] < BUILD_CHECK_SECONDS:
            return seen[1]
        current = build_id(con)
        with self._lock:
            self._seen[con] = (now, current)
        return current

    def _get(self, con: duckdb.DuckDBPyConnection, key: Hashable, make: Callable[[], T]) -> T:
        current = self._current(con)
        with self._lock:
            older = current != self._build and _run_of(current) < _run_of(self._build)
        if older:
            # A reader of an older build: answer it, but keep the newer build's results.
            return make()
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

    # School-level questions of the register, provision and home pages. ``school_urn``
    # None asks them of the whole trust. Each result is the same for every user (the
    # pages keep only what the user's scope admits), so one computation serves them all.

    def compare_with_national(
        self, con: duckdb.DuckDBPyConnection, school_urn: str | None
    ) -> NationalComparison:
        return self._get(
            con,
            ("compare_with_national", school_urn),
            lambda: compare_with_national(con, school_urn=school_urn),
        )

    def provision_against_need(
        self, con: duckdb.DuckDBPyConnection, school_urn: str | None
    ) -> NeedProvision:
        return self._get(
            con,
            ("provision_against_need", school_urn),
            lambda: provision_against_need(con, school_urn=school_urn),
        )

    def training_against_need(
        self, con: duckdb.DuckDBPyConnection, school_urn: str | None
    ) -> TrainingAgainstNeed:
        return self._get(
            con,
            ("training_against_need", school_urn),
            lambda: training_against_need(con, school_urn=school_urn),
        )

    def attendance_without_plan(
        self, con: duckdb.DuckDBPyConnection, school_urn: str | None
    ) -> AttendanceWithoutPlan:
        return self._get(
            con,
            ("attendance_without_plan", school_urn),
            lambda: attendance_without_plan(con, school_urn=school_urn),
        )

    def provision_overview(
        self, con: duckdb.DuckDBPyConnection, school_urn: str | None
    ) -> ProvisionOverview:
        return self._get(
            con,
            ("provision_overview", school_urn),
            lambda: provision_overview(con, school_urn=school_urn),
        )

    def warm(self, con: duckdb.DuckDBPyConnection, school_urns: Sequence[str | None]) -> None:
        """Compute every page's whole-school results ahead of the first request (for
        example after a build, or at start-up); ``None`` stands for the whole trust, whose
        register and provision questions a trust-wide user's pages ask."""
        for school in school_urns:
            if school is not None:
                self.strategy_effects(con, school)
                self.harder_situations(con, school)
                self.review_queue(con, school)  # computes the school's alerts on the way
            self.compare_with_national(con, school)
            self.provision_against_need(con, school)
            self.training_against_need(con, school)
            self.attendance_without_plan(con, school)
            self.provision_overview(con, school)


DEFAULT_CACHE = SchoolAnalyticsCache()
