"""Warming the analytics cache at start and after each build.

A school's whole-school analytics (what helps, harder situations, early-sign alerts, the
review queue, the register's and the provision map's questions) take seconds to compute
on a large school, so the first page of a "cold" school would keep its visitor waiting.
The server prepares them in a background thread instead, school by school and then the
whole trust:

- at start-up (:func:`start`): every school, read back from the results the warehouse
  keeps (``views/stored_results.py``) when their inputs have not changed, computed
  otherwise; the server answers from its first second meanwhile;
- after a rebuild (:func:`after_build`): only the schools whose inputs changed
  (:func:`empowered.views.inputs.schools_to_rewarm`), the others keep their results.

Pages asked for while warming runs still work: a page needing a school not warmed yet
computes (or reads back) that school alone, and the cache computes each (kind, school)
once per change of its inputs, so a page and the warming thread never repeat each
other's work.

The thread reads through its own cursor (``Warehouse.reading``) and never takes the write
lock, so sign-ins, audit rows and imports carry on. Its log lines name schools (by URN),
counts and seconds, never a pupil.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
from fastapi import FastAPI, Request, Response

from empowered.views import PupilScope, queries
from empowered.views.cache import SchoolAnalyticsCache, build_id
from empowered.views.inputs import rebuilt_inputs, schools_to_rewarm

if TYPE_CHECKING:
    from empowered.warehouse.runner import BuildResult

log = logging.getLogger(__name__)

# Before each result the warming thread waits (this long at most) for the pages being
# served to finish: on two cores its computing would otherwise slow every page answered
# meanwhile, and a page that needs a school computes that school itself anyway.
YIELD_SECONDS = 1.0
# After a rebuild, while pages keep coming, warming takes at most this share of the
# server's time: after a result that took t seconds it waits t * (1 / share - 1) for a
# quiet moment (no request for QUIET_SECONDS) before the next. Its results are Python
# computing, which holds the interpreter lock: with 40 staff saving check-ins, warming
# after each capture rebuild held it 45% of the time and the saves' p95 was 570-610 ms
# (56 ms with no warming). The results are only ahead of need: a page that asks for a
# school not warmed yet computes that school itself.
BUSY_SHARE = 0.1
QUIET_SECONDS = 0.5
# After warming, how long the thread waits for a lull (no request for FOLD_QUIET_SECONDS)
# to fold the warehouse's log. Folding holds every write for half a second or more, so it
# waits for a real lull: with 40 staff saving check-ins, a fold at the first half-second
# gap held saves for up to 1.9 s and their p95 rose from 127 to 265 ms.
FOLD_WAIT_SECONDS = 600.0
FOLD_QUIET_SECONDS = 5.0
# The libraries the analytics import on first use (scipy, and ruptures for the pupil page's
# lasting changes: about a second in all). At a restart every result is read back, not
# computed, so the first pupil page imported them, and every page in flight waited behind
# it (1.2 s, four seconds into the web benchmark's minute). Imported after start-up
# warming instead, before the first visitors of a server just started.
PRELOADED = ("ruptures", "scipy.stats", "scipy.optimize", "scipy.special")
# What the home page reads of each school (views/home.py).
# (provision_overview: the verdicts on the trust-wide roles' table of schools, issue 15)
HOME_KINDS = ("alerts", "review_queue", "provision_against_need", "provision_overview")


class Traffic:
    """How many requests the server is answering; the warming thread gives way to them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = 0
        self._idle = threading.Event()
        self._idle.set()
        self._last_end = float("-inf")  # time.monotonic() when the last request ended

    def begin(self) -> None:
        with self._lock:
            self._busy += 1
            self._idle.clear()

    def end(self) -> None:
        with self._lock:
            self._busy -= 1
            self._last_end = time.monotonic()
            if self._busy <= 0:
                self._busy = 0
                self._idle.set()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no request is being answered (or ``timeout``); True if idle."""
        return self._idle.wait(timeout)

    def wait_quiet(self, quiet: float, timeout: float) -> bool:
        """Block (``timeout`` at most) until no request is being answered and none has
        been for ``quiet`` seconds; True if so."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if not self._idle.wait(max(left, 0.0)):
                return False
            with self._lock:
                since = time.monotonic() - self._last_end
                idle = self._busy == 0
            if idle and since >= quiet:
                return True
            if left <= 0:
                return False
            time.sleep(min(quiet - since if idle else 0.01, left, quiet))


def traffic(app: FastAPI) -> Traffic:
    found: Traffic | None = getattr(app.state, "traffic", None)
    if found is None:
        with _starting:
            found = getattr(app.state, "traffic", None)
            if found is None:
                found = app.state.traffic = Traffic()
    return found


async def count_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Middleware: counts the requests in flight (see :class:`Traffic`)."""
    counter = traffic(request.app)
    counter.begin()
    try:
        return await call_next(request)
    finally:
        counter.end()


_EVERY_SCHOOL = PupilScope(schools=None, pupils=None, identified=False)
_starting = threading.Lock()


@dataclass
class Warming:
    """One warming run, kept on ``app.state.warming`` (the latest run)."""

    reason: str
    build: str | None = None
    schools: int = 0  # schools this run warms (after a rebuild, those whose inputs changed)
    warmed: int = 0
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    resumed: float | None = None  # time.monotonic() when its last result began

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.started

    def wait(self, timeout: float | None = None) -> bool:
        """Block until this run has finished (or ``timeout`` passed); True if it finished."""
        return self.done.wait(timeout)


def start(app: FastAPI) -> None:
    """Warm the cache in the background when the server starts."""
    # The modules imported so far (more than half of what a full collection walks once
    # warm) are set aside now, so collections while the first pages and warming run
    # are short too.
    _settle()
    _launch(app, "start-up")


def after_build(app: FastAPI, result: BuildResult | None = None) -> None:
    """The warehouse was rebuilt (an import, a capture): warm the schools whose inputs
    changed, for the new build.

    The cache notices a new build by itself and keeps only the results whose inputs did
    not change, so this only saves the next visitor the wait. With the build's
    ``result``, only the input tables it rebuilt are fingerprinted again. A run still
    warming an older build stops at its next school."""
    _launch(app, "rebuild", result)


def stop(app: FastAPI, timeout: float = 30.0) -> None:
    """At server stop: the run ends at its next result and is waited for, so the process
    never exits with the thread inside a query (DuckDB aborts the process then)."""
    run = current(app)
    if run is not None and run.thread is not None:
        run.stopping.set()
        run.thread.join(timeout)
    gc.unfreeze()  # what :func:`_settle` set aside may be collected again


def _settle() -> None:
    """After a warming run: what it leaves (the cache's results, every module the server
    imported) lives as long as the server, so it is set aside from the cycle collector
    (``gc.freeze``). Otherwise every full collection walked it all: under ten users one
    came every few trust home pages and stopped every page for 200-600 ms (0.6 M objects
    before the harder situations were slimmed, 0.2 M after). Garbage is collected first,
    so none is set aside; what is set aside is still freed when no longer referenced."""
    gc.collect()
    gc.freeze()


class _Stopped(Exception):
    """The server is stopping: the warming run ends here."""


class _Superseded(Exception):
    """A newer build is warming: this run ends here."""


def current(app: FastAPI) -> Warming | None:
    """The latest warming run, if any."""
    run: Warming | None = getattr(app.state, "warming", None)
    return run


def _launch(app: FastAPI, reason: str, result: BuildResult | None = None) -> Warming:
    with _starting:
        run = Warming(reason)
        app.state.warming = run
        run.thread = threading.Thread(
            target=_warm,
            args=(app, run, result),
            name=f"empowered-warming-{reason}",
            daemon=True,
        )
        run.thread.start()
    return run


def _give_way(app: FastAPI, run: Warming) -> None:
    """Between two results: end if the server is stopping or a newer build is warming;
    wait while pages are served (at start-up up to YIELD_SECONDS for a moment with none in
    flight; after a rebuild up to the BUSY_SHARE of the last result's time for a quiet
    moment)."""
    now = time.monotonic()
    counter = traffic(app)
    if run.reason == "start-up":
        deadline = now + YIELD_SECONDS
        ready: Callable[[float], bool] = counter.wait_idle
    else:
        spent = 0.0 if run.resumed is None else now - run.resumed
        deadline = now + spent * (1 / BUSY_SHARE - 1)

        def ready(timeout: float) -> bool:
            return counter.wait_quiet(QUIET_SECONDS, timeout)

    # In short waits, so a stopping server is not kept waiting for the pages' gap.
    while not run.stopping.is_set() and current(app) is run:
        left = deadline - time.monotonic()
        if left <= 0 or ready(min(0.05, left)):
            break
    if run.stopping.is_set():
        raise _Stopped
    if current(app) is not run:
        raise _Superseded
    run.resumed = time.monotonic()


def _fold_log(app: FastAPI, run: Warming) -> None:
    """After a build and its warming, the next lull (up to FOLD_WAIT_SECONDS away) folds
    the warehouse's write-ahead log into its file, which DuckDB would otherwise do
    inside a later commit (warehouse.connection.CHECKPOINT_THRESHOLD)."""
    deadline = time.monotonic() + FOLD_WAIT_SECONDS
    warehouse = app.state.warehouse
    # Checked every second: ends with the server, a newer build's run or a closed file.
    while not run.stopping.is_set() and current(app) is run and not warehouse.closed:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if traffic(app).wait_quiet(FOLD_QUIET_SECONDS, min(1.0, left)):
            if warehouse.fold_log():
                log.info("warehouse: write-ahead log folded into the file")
            return


def _warm(app: FastAPI, run: Warming, result: BuildResult | None) -> None:
    cache: SchoolAnalyticsCache = app.state.cache
    try:
        with app.state.warehouse.reading() as con:
            try:
                every = [
                    str(r["school_urn"])
                    for r in queries.rows(con, "scope_schools", scope=_EVERY_SCHOOL)
                ]
                run.build = build_id(con)
            except duckdb.CatalogException:
                log.info("analytics cache: nothing to warm, the warehouse has not been built")
                return
            # Compared with what the last finished run warmed (not with what the cache
            # holds: a page may have noticed the new build first), so a run cut short by a
            # newer build leaves its schools to the next run.
            previous = None if run.reason == "start-up" else getattr(app.state, "warmed", None)
            inputs = cache.refresh(
                con,
                rebuilt=None if result is None else rebuilt_inputs(result),
                run_id=None if result is None else result.run_id,
            )
            if run.reason == "start-up":
                # What every home page reads of every school, read back at once (one
                # question, not forty) before the first visitor asks for it.
                cache.prefetch(con, HOME_KINDS, every)
            due = schools_to_rewarm(previous, inputs)
            schools = [s for s in every if s in due]
            run.schools = len(schools)
            log.info(
                "analytics cache: warming %d of %d schools after %s (build %s)",
                len(schools),
                len(every),
                run.reason,
                run.build,
            )
            # What the home page needs of every school first (a trust-wide home page reads
            # all of them at once), then the whole trust's questions, then each school's whole set.
            cache.warm(con, schools, between=lambda: _give_way(app, run), only_home=True)
            if current(app) is run and None in due:
                # The whole trust's register and provision questions (trust-wide users),
                # before each school's whole set: a few small results, read back in a
                # moment at a restart, that the trust's register and its spreadsheet wait
                # for, where one school's set waits only for that school's pages.
                began = time.perf_counter()
                cache.warm(con, [None], between=lambda: _give_way(app, run))
                log.info(
                    "analytics cache: the whole trust's questions warmed in %.1f s",
                    time.perf_counter() - began,
                )
            for number, school in enumerate(schools, start=1):
                if current(app) is not run:
                    log.info("analytics cache: a newer build is warming; this run stops")
                    return
                began = time.perf_counter()
                cache.warm(con, [school], between=lambda: _give_way(app, run))
                run.warmed += 1
                log.info(
                    "analytics cache: school %s warmed (%d of %d) in %.1f s",
                    school,
                    number,
                    len(schools),
                    time.perf_counter() - began,
                )
            if current(app) is run and cache.store is not None:
                # Nothing stored outlives its inputs (a purge, an erasure, a school gone).
                cache.store.prune({s: inputs.of(s) for s in [*every, None]}, every)
            if run.reason == "start-up":
                for module in PRELOADED:
                    importlib.import_module(module)
            if current(app) is run:
                app.state.warmed = inputs
                _settle()
        log.info(
            "analytics cache: %d schools warm in %.1f s",
            run.warmed,
            time.perf_counter() - run.started,
        )
    except _Stopped:
        log.info("analytics cache: warming stopped with the server")
    except _Superseded:
        log.info("analytics cache: a newer build is warming; this run stops")
    except Exception as err:  # a background thread has no caller to raise to
        run.error = f"{type(err).__name__}: {err}"
        # Only the exception's type in the log: a database error message may quote a value.
        log.warning("analytics cache: warming stopped (%s)", type(err).__name__)
    finally:
        run.finished = time.perf_counter()
        run.done.set()
    if run.error is None:
        _fold_log(app, run)
