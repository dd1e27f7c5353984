"""Whole-school analytics, computed once per school and reused until its inputs change.

"What helps" and "harder situations" are judged over a whole school at once (their
false-discovery control and shrinkage need every child's results), which takes seconds on
a large school: far too slow for each page view. Results are cached per school with the
fingerprint of the school's inputs (``views/inputs.py``). A new build (or import, which
rebuilds) is noticed from ``meta.model_runs``; the inputs are fingerprinted again then
(a fifth of a second for a trust), and only the schools whose inputs changed lose their
results: after a capture at one school, the other nineteen keep theirs.

With a :class:`~empowered.views.stored_results.ResultStore` (the server has one), results
are also kept in the warehouse, so a restart reads them back in milliseconds instead of
computing them again.

The cache holds pseudonymous analytics results only, never identity fields.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

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
from empowered.analytics.situations import (
    StandingSituation,
    load_harder_situations,
    standing_out,
)
from empowered.analytics.strategies import StrategyEffect, load_strategy_effects
from empowered.analytics.triggers import QueueItem, review_queue
from empowered.views import queries
from empowered.views.inputs import Fingerprints, fingerprints, unbuilt_inputs
from empowered.views.stored_results import MISSING, ResultStore, loads

T = TypeVar("T")


def build_id(con: duckdb.DuckDBPyConnection) -> str:
    """The latest build's run id and finish time: changes whenever the marts are rebuilt."""
    found = queries.rows(con, "build_id")
    row = found[0] if found else {}
    return f"{row.get('run_id')}@{row.get('finished_at')}"


def warehouse_key(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(the warehouse file, its latest build): what a value kept between requests was
    worked out from, when it depends on nothing else the pages can change."""
    found = queries.rows(con, "warehouse_file")
    return (str(found[0]["path"]) if found else "", build_id(con))


def _run_of(build: str | None) -> int:
    """The run id a build id starts with (-1 for no build), to tell older from newer."""
    head = (build or "").split("@", 1)[0]
    return int(head) if head.isdigit() else -1


# The kind under which the fingerprints of a build's inputs are stored (for the trust, with
# the trust's fingerprint as their inputs, so pruning keeps the current ones only).
FINGERPRINTS = "input_fingerprints"
# How long a connection's build id is trusted without asking again: one page's worth.
BUILD_CHECK_SECONDS = 1.0
DERIVED_KEPT = 512  # derived values kept (a few per school)


class Recent(Generic[T]):
    """The last ``size`` values by key, safe to share between threads: for results that
    are the same for the same key (a build id among it) and cost more to make than to keep.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            return None

    def put(self, key: Hashable, value: T) -> T:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value


class SchoolAnalyticsCache:
    """Per-school analytics results for the current warehouse build.

    Safe to share between threads: each (kind, school) is computed once per change of
    the school's inputs, by the first request that needs it (or the warming thread),
    while other schools' requests carry on. A page needing a school nobody has computed
    yet computes that school alone; it never waits for the warming of the others.

    The build is asked of each connection (a request's cursor) once per
    ``BUILD_CHECK_SECONDS``, not once per result: a trust-wide home page needs some sixty
    results, and each question to the database costs milliseconds on a busy server. A
    connection still reading an older build never evicts a newer build's results.
    """

    def __init__(self, store: ResultStore | None = None) -> None:
        self._lock = threading.Lock()
        self._build: str | None = None
        self._inputs: Fingerprints | None = None
        self._inputs_lock = threading.Lock()
        # (kind, school) -> (the fingerprint of the inputs it was computed from, result)
        self._values: dict[Hashable, tuple[str, Any]] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._seen: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, tuple[float, str]] = (
            weakref.WeakKeyDictionary()
        )
        self.store = store
        # Values derived from the results, by (name, school, extra, inputs' fingerprint).
        self._derived: Recent[Any] = Recent(DERIVED_KEPT)
        # Values read from tables that only a build changes, by (name, key, build).
        self._per_build: Recent[Any] = Recent(DERIVED_KEPT)
        self.computed = 0  # how many results were computed (not served from the cache)
        self.loaded = 0  # how many were read back from the store instead of computed

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

    @property
    def inputs(self) -> Fingerprints | None:
        """The fingerprints of the build the cache holds results for (None before any)."""
        return self._inputs

    def refresh(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        rebuilt: Collection[str] | None = None,
        run_id: int | None = None,
    ) -> Fingerprints:
        """Fingerprint the inputs of the build ``con`` reads, once per build, and drop
        the results of the schools whose inputs changed.

        ``rebuilt`` (from :func:`~empowered.views.inputs.rebuilt_inputs`) names the input
        tables build ``run_id`` rebuilt: the others keep their fingerprints without being
        read, provided the cache holds the build just before it (otherwise all are read).
        """
        current = build_id(con)
        with self._inputs_lock:
            with self._lock:
                if current == self._build and self._inputs is not None:
                    return self._inputs
                previous = self._inputs
                follows = run_id is not None and _run_of(self._build) == run_id - 1
            narrowed = rebuilt is not None and follows and _run_of(current) == run_id
            found = None if narrowed else self._stored_inputs(con, current)
            if found is None:
                found = fingerprints(
                    con,
                    tables=rebuilt if narrowed else None,
                    previous=previous if narrowed else None,
                )
                if self.store is not None:
                    # Kept for the next start: the same build is not hashed again then.
                    self.store.save(FINGERPRINTS, None, found.of(None), (current, found))
            with self._lock:
                if _run_of(current) < _run_of(self._build):
                    # An older build's reader got here late: answer it, change nothing.
                    return found
                self._build = current
                self._inputs = found
                self._values = {
                    key: (digest, value)
                    for key, (digest, value) in self._values.items()
                    if digest == found.of(_school_of(key))
                }
            return found

    def _stored_inputs(self, con: duckdb.DuckDBPyConnection, build: str) -> Fingerprints | None:
        """The fingerprints stored for ``build`` (a restart reads them back instead of
        hashing every input table, a second or more of the first page after a start on a
        busy machine), with the inputs no model builds read again; None if none stored."""
        if self.store is None:
            return None
        for _, _, _, data in self.store.load_kinds(con, [FINGERPRINTS]):
            try:
                stored_build, stored = loads(data)
            except Exception:  # of an older version: hashed again
                continue
            if stored_build == build and isinstance(stored, Fingerprints):
                return fingerprints(con, tables=unbuilt_inputs(), previous=stored)
        return None

    def _digest(self, con: duckdb.DuckDBPyConnection, school: str | None) -> tuple[str, str]:
        """(the build ``con`` reads, the fingerprint of ``school``'s inputs in it); an
        empty fingerprint for a reader of a build older than the cache's."""
        current = self._current(con)
        with self._lock:
            older = current != self._build and _run_of(current) < _run_of(self._build)
            inputs = self._inputs if current == self._build else None
        if older:
            return current, ""
        if inputs is None:
            inputs = self.refresh(con)
        return current, inputs.of(school)

    def prefetch(
        self, con: duckdb.DuckDBPyConnection, kinds: Sequence[str], schools: Sequence[str]
    ) -> int:
        """Read back in one question the stored results of ``kinds`` for ``schools`` whose
        inputs are the current ones (at start-up: what the home page needs of every
        school, before its first visitor asks). How many were read back."""
        if self.store is None:
            return 0
        current = build_id(con)
        inputs = self.refresh(con)
        wanted: dict[tuple[str, str | None], str] = {
            (kind, school): inputs.of(school) for kind in kinds for school in schools
        }
        read = 0
        for kind, school, digest, data in self.store.load_kinds(con, kinds):
            key = (kind, school)
            if wanted.get(key) != digest:
                continue
            with self._lock:
                if key in self._values or self._build != current:
                    continue
            try:
                value = loads(data)
            except Exception:  # a result of an older version: computed when asked for
                continue
            with self._lock:
                if key not in self._values and self._build == current:
                    self._values[key] = (digest, value)
                    self.loaded += 1
                    read += 1
        return read

    def derived(
        self,
        con: duckdb.DuckDBPyConnection,
        name: str,
        school: str | None,
        extra: Hashable,
        make: Callable[[], T],
    ) -> T:
        """A value worked out from a school's cached results for every request alike (the
        home page's candidates, say): kept in memory while the school's inputs are the
        same, never stored. ``extra`` is whatever else it depends on (a day)."""
        _, digest = self._digest(con, school)
        if not digest:
            return make()
        key = (name, school, extra, digest)
        found = self._derived.get(key)
        if found is None:
            found = self._derived.put(key, make())
        return found  # type: ignore[no-any-return]

    def per_build(
        self, con: duckdb.DuckDBPyConnection, name: str, key: Hashable, make: Callable[[], T]
    ) -> T:
        """A value that changes only when the warehouse is rebuilt (a school's timetabled
        day, its latest school days), kept for the build ``con`` reads: every pupil page
        of the school asked for it again otherwise. ``key`` is whatever else it depends on."""
        held = (name, key, self._current(con))
        found = self._per_build.get(held)
        if found is None:
            found = self._per_build.put(held, make())
        return found  # type: ignore[no-any-return]

    def _get(
        self, con: duckdb.DuckDBPyConnection, key: tuple[str, str | None], make: Callable[[], T]
    ) -> T:
        kind, school = key
        current, digest = self._digest(con, school)
        if not digest:
            # A reader of an older build: answer it, but keep the newer build's results.
            return make()
        with self._lock:
            held = self._values.get(key)
            if held is not None and held[0] == digest:
                return held[1]  # type: ignore[no-any-return]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                held = self._values.get(key)
                if held is not None and held[0] == digest:
                    return held[1]  # type: ignore[no-any-return]
            value: Any = (
                MISSING if self.store is None else self.store.load(con, kind, school, digest)
            )
            if value is MISSING:
                value = make()
                with self._lock:
                    self.computed += 1
                if self.store is not None:
                    self.store.save(kind, school, digest, value)
            else:
                with self._lock:
                    self.loaded += 1
            with self._lock:
                if self._build == current:
                    self._values[key] = (digest, value)
            return value  # type: ignore[no-any-return]

    def strategy_effects(
        self, con: duckdb.DuckDBPyConnection, school_urn: str
    ) -> list[StrategyEffect]:
        return self._get(
            con,
            ("strategy_effects", school_urn),
            lambda: load_strategy_effects(con, school_urn=school_urn),
        )

    def standing_situations(
        self, con: duckdb.DuckDBPyConnection, school_urn: str
    ) -> tuple[StandingSituation, ...]:
        """The school's harder situations that stand out, as the pages show them: all of
        them (every context compared, with its tests) took some 50 MB to keep for a trust
        and most of a restart to read back, for the few dozen a school the pages show."""
        return self._get(
            con,
            ("harder_standing", school_urn),
            lambda: standing_out(load_harder_situations(con, school_urn=school_urn)),
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

    def warm(
        self,
        con: duckdb.DuckDBPyConnection,
        school_urns: Sequence[str | None],
        *,
        between: Callable[[], object] | None = None,
        only_home: bool = False,
    ) -> None:
        """Compute every page's whole-school results ahead of the first request (for
        example after a build, or at start-up); ``None`` stands for the whole trust, whose
        register and provision questions a trust-wide user's pages ask. ``between`` is
        called before each result (the warming thread gives way to pages there);
        ``only_home``: just what the home page reads of a school (its early signs and
        review queue), which a trust-wide home page needs for every school at once."""
        pause = between or (lambda: None)
        for school in school_urns:
            steps: list[Callable[[], object]] = []
            if school is not None:
                steps += [
                    partial(self.alerts, con, school),
                    partial(self.review_queue, con, school),
                ]
                if only_home:
                    steps.append(partial(self.provision_against_need, con, school))
                    # The trust-wide home's table of schools: each school's verdicts.
                    steps.append(partial(self.provision_overview, con, school))
                    for step in steps:
                        pause()
                        step()
                    continue
                steps += [
                    partial(self.strategy_effects, con, school),
                    partial(self.standing_situations, con, school),
                ]
            steps += [
                partial(self.compare_with_national, con, school),
                partial(self.provision_against_need, con, school),
                partial(self.training_against_need, con, school),
                partial(self.attendance_without_plan, con, school),
                partial(self.provision_overview, con, school),
            ]
            for step in steps:
                pause()
                step()


DEFAULT_CACHE = SchoolAnalyticsCache()


def _school_of(key: Hashable) -> str | None:
    school: str | None = key[1] if isinstance(key, tuple) else None
    return school
