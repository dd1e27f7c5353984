"""Quick capture on a phone: check-ins, strategies used, ABC incidents.

Pick a pupil (``GET /capture``), pick what to log (``GET /capture/{pupil_key}?kind=``),
tap the answers and save (``POST /capture/{pupil_key}``). The save lands ONE row in raw
(:mod:`empowered.sources.capture`) and answers at once; the marts catch up in the
background: :class:`Rebuilder` waits for a quiet moment (captures come in runs), rebuilds
only the models the captured rows touch, then tells the analytics cache. Until then the
pupil's timeline reads the capture from raw ("just captured, not yet in the charts").

With JavaScript the save is an htmx request answered with the confirmation and a fresh
form; without it, the same form posts and is redirected back (post-redirect-get).

The form checks what staging checks (so "Saved" means accepted), pupils who have left are
not offered, each form carries an idempotency key (a retried post lands nothing twice), and
the capture and its audit entry are written in one transaction.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import duckdb
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from empowered.access import audit as audit_log
from empowered.access.audit import Captured, ViewedPage, ViewedPupil, read_log
from empowered.access.policy import Scope
from empowered.keys import Keys
from empowered.settings import get_settings
from empowered.sources import capture as cap
from empowered.sources.landing import ensure_raw_tables
from empowered.views import OutOfScope, PupilScope, queries
from empowered.views.cache import Recent
from empowered.views.capture import (
    CAPTURE_PUPIL_TABLES,
    CaptureTarget,
    capture_pupil_row,
    capture_pupil_rows,
    capture_pupils,
    strategy_choices,
    target_of,
)
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult
from empowered.web import warming
from empowered.web.deps import CheckedForm, Forbidden, check_pupil, needs, pupil_scope
from empowered.web.recorder import recorder
from empowered.web.render import CAPTURE, audit, render

router = APIRouter()
log = logging.getLogger(__name__)

CaptureScope = Annotated[Scope, Depends(needs(*CAPTURE))]
RECENT_PUPILS = 5
QUIET_SECONDS = 2.0  # a rebuild waits this long after the latest capture
# ... but no longer than this after the first capture it covers: staff saving all morning
# never leave a quiet spell, and the marts must still catch up.
LONGEST_SECONDS = 60.0
RETRY_SECONDS = 30.0  # and this long after a rebuild failed


class Rebuilder:
    """Rebuilds the models captures touch, once per run of captures.

    ``schedule`` returns at once; a background thread waits until no capture has arrived
    for ``quiet`` seconds (or ``longest`` seconds have passed since the first capture
    waiting, when captures never pause), then runs one incremental build
    (``build_duckdb(touched=...)``, as an import does) under the warehouse's write lock,
    then ``after_build``. Captures arriving during a build are picked up by the next one;
    they do not wait for it (they write under ``recording()``, see ``web.warehouse``).
    """

    def __init__(
        self,
        app: FastAPI,
        *,
        quiet: float = QUIET_SECONDS,
        longest: float = LONGEST_SECONDS,
        after_build: Callable[[FastAPI], None] | None = None,
    ) -> None:
        self.app = app
        self.quiet = quiet
        self.longest = longest
        self.last_result: BuildResult | None = None
        # By default, warm only the schools the build's rebuilt tables reach.
        self.after_build = after_build or (lambda a: warming.after_build(a, self.last_result))
        self._touched: set[str] = set()
        self._last_capture = 0.0
        self._first_capture = 0.0  # the oldest capture not yet in a build
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._busy = False
        self._thread: threading.Thread | None = None
        self.last_seconds: float | None = None  # how long the latest rebuild took
        self.last_models: int = 0  # how many models it ran
        self.slowest: list[tuple[str, float]] = []  # its slowest models, for benchmarks
        self.builds = 0
        self.last_error: str | None = None

    def schedule(self, touched: Iterable[str]) -> None:
        with self._lock:
            now = time.monotonic()
            if not self._touched:
                self._first_capture = now
            self._touched |= set(touched)
            self._last_capture = now
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="capture-rebuild", daemon=True
                )
                self._thread.start()
            self._wake.notify_all()

    def _run(self) -> None:
        _yield_to_requests()
        while True:
            with self._lock:
                if not self._touched:
                    self._thread = None
                    self._wake.notify_all()
                    return
                due = min(self._last_capture + self.quiet, self._first_capture + self.longest)
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                touched, self._touched = self._touched, set()
                self._busy = True
            try:
                self._build(touched)
            finally:
                with self._lock:
                    self._busy = False
                    self._wake.notify_all()

    def _build(self, touched: set[str]) -> None:
        started = time.perf_counter()
        # The tables the build wrote: what is kept from the others (the pupils' rows and
        # scopes, which a capture's rebuild does not touch) stays valid.
        wrote: set[str] = set()
        try:
            with self.app.state.warehouse.writing(tables=wrote) as con, _one_thread(con):
                result = build_duckdb(con, touched=touched)
                wrote.update(r.model.name for r in result.results)
            self.last_result = result
            self.last_models = len(result.results)
            ran = sorted(result.results, key=lambda r: -r.seconds)
            self.slowest = [(r.model.name, r.seconds) for r in ran[:5]]
            failed = [r.model.name for r in result.failures()]
            self.last_error = f"models failed: {', '.join(failed)}" if failed else None
        except Exception as err:  # the server carries on and tries again a little later
            self.last_error = f"{type(err).__name__}: {err}"
            if self.app.state.warehouse.closed:
                # Shutting down: the next start rebuilds for captures left unbuilt.
                return
            log.exception("rebuild after capture failed; trying again in %.0f s", RETRY_SECONDS)
            with self._lock:
                self._touched |= touched
                # Not at once: a failing build retried in a tight loop would hog the server.
                self._last_capture = time.monotonic() + RETRY_SECONDS - self.quiet
                self._first_capture = self._last_capture + self.quiet - self.longest
            return
        finally:
            self.last_seconds = time.perf_counter() - started
        self.builds += 1
        log.info("rebuilt after capture in %.1f s", self.last_seconds)
        self.after_build(self.app)

    def flush(self, timeout: float = 300.0) -> bool:
        """Run any scheduled rebuild now rather than after the quiet spell, and wait."""
        with self._lock:
            self._last_capture = self._first_capture = float("-inf")
            self._wake.notify_all()
        return self.wait_idle(timeout)

    def wait_idle(self, timeout: float = 300.0) -> bool:
        """Block until every scheduled rebuild has run (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._touched or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(left)
        return True


# How much less CPU the rebuild thread asks for than the threads answering staff (Linux
# "nice" values are per thread). A rebuild is seconds behind a capture anyway; a save is
# waited for by someone holding a phone.
REBUILD_NICENESS = 10


def _yield_to_requests() -> None:
    """Lower this thread's CPU priority (where the OS allows it): the rebuild runs its
    Python and DuckDB's share of the build on it."""
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            me = threading.get_native_id()
            niceness = min(19, os.getpriority(os.PRIO_PROCESS, me) + REBUILD_NICENESS)
            os.setpriority(os.PRIO_PROCESS, me, niceness)
        except OSError:  # not permitted here: the rebuild runs at the usual priority
            pass


@contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's other worker threads sit out the rebuild, so all of its work runs on the
    rebuild's own thread, whose lower priority (``_yield_to_requests``) then covers it:
    otherwise DuckDB runs half of a build on a worker at the usual priority, and saves
    waited on two cores for a rebuild that is seconds behind them anyway. The setting is
    the database's: pages read on one thread meanwhile too, which costs little at the
    size of what a page asks for."""
    [(before,)] = con.execute("SELECT current_setting('threads')").fetchall()
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute("SET threads = ?", [int(before)])


def rebuilder(app: FastAPI) -> Rebuilder:
    """The app's one rebuilder, made on first use. Made, it also picks up captures whose
    rebuild never ran (the server stopped during the quiet spell)."""
    found = getattr(app.state, "capture_rebuilder", None)
    if found is None:
        with _MAKING:
            found = getattr(app.state, "capture_rebuilder", None)
            if found is None:
                found = Rebuilder(app)
                app.state.capture_rebuilder = found
                unbuilt = unbuilt_captures(app)
                if unbuilt:
                    found.schedule(unbuilt)
    assert isinstance(found, Rebuilder)
    return found


_MAKING = threading.Lock()


def unbuilt_captures(app: FastAPI) -> set[str]:
    """Raw tables with captures landed after their staging model last ran."""
    try:
        with app.state.warehouse.reading() as con:
            return {str(r["raw_table"]) for r in queries.rows(con, "capture_unbuilt")}
    except duckdb.CatalogException:  # a warehouse never built or never landed into
        return set()


def start(app: FastAPI) -> None:
    """At server start: make the raw tables captures land in, and rebuild for captures a
    stopped server left unbuilt. Made here, the tables' DDL does not fall to the first
    save, under the recording lock, with the morning's first saves queued behind it."""
    try:
        _ensure_raw_tables(app)
    except duckdb.Error:  # the first save tries again (and says why, if it fails too)
        log.warning("could not make the raw tables for captures at start")
    rebuilder(app)


def stop(app: FastAPI, timeout: float = 60.0) -> None:
    """At server stop: run a rebuild still waiting for its quiet spell, so no capture is
    left out of the marts."""
    found = getattr(app.state, "capture_rebuilder", None)
    if isinstance(found, Rebuilder):
        found.flush(timeout)


def _ensure_raw_tables(app: FastAPI) -> None:
    """The raw tables a capture lands in, made once per server rather than on every save:
    ``ensure_raw_tables`` is some fifty DDL statements, which on every save took most of
    its time and held the recording lock (every page's audit entry waits for that lock)."""
    if getattr(app.state, "raw_tables_ready", False):
        return
    with app.state.warehouse.recording() as con:
        ensure_raw_tables(con)
    app.state.raw_tables_ready = True


def _keys(app: FastAPI) -> Keys:
    """The keys a capture is encrypted with, read from the key file once per server (as
    the session secret is, at start) rather than on every save."""
    found = getattr(app.state, "capture_keys", None)
    if found is None:
        found = app.state.capture_keys = get_settings().keys()
    assert isinstance(found, Keys)
    return found


def _strategies(request: Request, kind: cap.Kind) -> cap.Choices:
    """The strategy catalogue, read only for the form that offers it: a check-in or an
    incident neither shows nor checks a strategy, and every statement on a save's path
    is milliseconds on a loaded server."""
    if kind.entity != "strategy_uses":
        return ()
    with request.app.state.warehouse.reading() as con:
        return strategy_choices(con)


# -- Pages --------------------------------------------------------------------------------


def _recent_keys(request: Request, scope: Scope) -> list[str]:
    with request.app.state.warehouse.reading() as con:
        entries = read_log(con, user_id=scope.user.user_id, event="captured", limit=100)
    keys: list[str] = []
    for e in entries:
        key = e["pupil_key"]
        if key and key not in keys:
            keys.append(str(key))
    return keys[:RECENT_PUPILS]


@router.get("/capture", response_class=HTMLResponse)
def choose_pupil(
    request: Request, scope: CaptureScope, q: Annotated[str, Query(max_length=100)] = ""
) -> HTMLResponse:
    with request.app.state.warehouse.reading() as con:
        pupils = capture_pupils(con, scope=pupil_scope(scope), groups=scope.user.groups, search=q)
    by_key = {p.pupil_key: p for p in pupils}
    recent = [] if q else [by_key[k] for k in _recent_keys(request, scope) if k in by_key]
    groups: dict[str, list[Any]] = {}
    for p in pupils:
        groups.setdefault(p.group, []).append(p)
    audit(request, scope, ViewedPage(page="/capture"))
    return render(
        request,
        scope,
        "capture.html",
        {"title": "Capture", "q": q, "groups": groups, "recent": recent, "count": len(pupils)},
    )


PUPIL_ROWS_KEPT = 256  # scopes whose pupils' rows are kept (a member of staff's each)


def _pupil_row(request: Request, pupil_key: str, scope: PupilScope) -> queries.Row | None:
    """The pupil's stored row for this scope (names and UPN still encrypted, as in the
    warehouse). The rows of every pupil in the scope are read at once and kept until the
    tables they come from change: a member of staff's forms and saves then read nothing
    (their version is read before the rows, so a build finishing meanwhile is not
    missed). A scope over the whole trust (no role that captures has one) reads its one
    pupil each time instead."""
    store = request.app.state.warehouse
    version = store.version_of(*CAPTURE_PUPIL_TABLES)
    if scope.schools is None:
        with store.reading() as con:
            return capture_pupil_row(con, pupil_key, scope=scope)
    kept = getattr(request.app.state, "capture_pupil_rows", None)
    if kept is None:
        kept = request.app.state.capture_pupil_rows = Recent(PUPIL_ROWS_KEPT)
    key = (scope.schools, scope.pupils, scope.identified, version)
    rows: dict[str, queries.Row] | None = kept.get(key)
    if rows is None:
        with store.reading() as con:
            rows = kept.put(key, capture_pupil_rows(con, scope=scope))
    return rows.get(pupil_key)


def _target(request: Request, scope: Scope, pupil_key: str) -> CaptureTarget:
    check_pupil(scope, pupil_key, request.url.path)
    wanted = pupil_scope(scope)
    try:
        row = _pupil_row(request, pupil_key, wanted)
        return target_of(row, pupil_key, scope=wanted, keys=_keys(request.app))
    except OutOfScope as err:
        raise Forbidden(scope.user, request.url.path, "pupil not found", pupil_key) from err


def _kind(name: str | None) -> cap.Kind:
    return cap.KINDS.get(name or "", cap.KINDS["check_in"])


def _form_context(
    request: Request,
    target: CaptureTarget,
    kind: cap.Kind,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: str | None = None,
    strategies: cap.Choices | None = None,
) -> dict[str, Any]:
    if strategies is None:
        strategies = _strategies(request, kind)
    now = datetime.now()
    # A form shown again after a mistake keeps its key; a fresh form gets a new one.
    key = (values or {}).get("capture_key") or ""
    return {
        "title": f"Capture for {target.name}",
        "pupil": target,
        "capture_key": key if cap.KEY_SHAPE.match(key) else cap.new_key(),
        "left_on": (
            cap.long_date(target.leaving_date)
            if target.leaving_date and target.has_left(now.date())
            else None
        ),
        "kind": kind,
        "kinds": list(cap.KINDS.values()),
        "values": values or {},
        "errors": errors or {},
        "saved": saved,
        "today": now.date().isoformat(),
        "now": now.strftime("%H:%M"),
        "choices": {
            "mood": cap.MOODS,
            "engagement": cap.ENGAGEMENT,
            "activity": cap.ACTIVITIES,
            "setting": cap.SETTINGS,
            "strategy": strategies,
            "outcome": cap.OUTCOMES,
            "antecedent": cap.ANTECEDENTS,
            "behaviour": cap.BEHAVIOURS,
            "consequence": cap.CONSEQUENCES,
            "intensity": cap.INTENSITIES,
        },
    }


@router.get("/capture/{pupil_key}", response_class=HTMLResponse)
def capture_form(
    request: Request,
    pupil_key: str,
    scope: CaptureScope,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    saved: Annotated[str | None, Query(max_length=5, pattern=r"^\d{2}:\d{2}$")] = None,
) -> HTMLResponse:
    target = _target(request, scope, pupil_key)
    audit(request, scope, ViewedPupil(pupil_key=pupil_key, page="capture"))
    context = _form_context(request, target, _kind(kind), saved=saved)
    return render(request, scope, "capture_form.html", context)


@router.post("/capture/{pupil_key}", response_class=HTMLResponse)
def capture_save(
    request: Request, pupil_key: str, scope: CaptureScope, form: CheckedForm
) -> Response:
    target = _target(request, scope, pupil_key)
    posted = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    kind = _kind(posted.get("kind"))
    htmx = request.headers.get("HX-Request") == "true"
    strategies = _strategies(request, kind)
    now = datetime.now()
    checked = cap.check_form(
        kind,
        posted,
        strategies=strategies,
        now=now,
        entry_date=target.entry_date,
        leaving_date=target.leaving_date,
    )
    key = posted.get("capture_key") or None
    if key is not None and not cap.KEY_SHAPE.match(key):
        checked.errors["capture_key"] = (
            "This form could not be read: reload the page and try again."
        )
    if not checked.ok:
        context = _form_context(
            request, target, kind, values=posted, errors=checked.errors, strategies=strategies
        )
        # htmx swaps only 2xx answers; a plain post is told plainly that nothing was saved.
        if htmx:
            context["oob"] = True  # and clear an earlier "Saved" above the form
            return render(request, scope, "_capture_form.html", context)
        return render(request, scope, "capture_form.html", context, status=422)
    staff = cap.staff_ref(scope.user.user_id)
    ip = request.client.host if request.client else None
    # The row is made ready (the UPN encrypted) and its batch id drawn before the lock, so
    # that only the capture's own row and audit entry are written under it, in one short
    # transaction (shared with writes arriving at the same moment: ``web.recorder``); the
    # checks above, the answer below and the rebuild are done outside it too.
    prepared = cap.prepare_capture(
        kind,
        checked,
        school_urn=target.school_urn,
        upn=target.upn,
        staff=staff,
        keys=_keys(request.app),
        now=now,
        key=key,
    )
    _ensure_raw_tables(request.app)
    with request.app.state.warehouse.reading() as con:
        batch_id = recorder(request.app).batch_ids.take(con)  # a retried form leaves a gap

    def land(con: duckdb.DuckDBPyConnection) -> cap.Saved | None:
        # A retried post (same person, same form key) lands nothing: it was saved the first
        # time, perhaps earlier in this very transaction (the form key makes the batch's
        # hash, and the batch row is written only where that hash is not yet).
        saved = cap.land_once(con, prepared, batch_id)
        if saved is None:
            return None
        # The capture and its audit entry land together or not at all.
        audit_log.record(
            con, Captured(pupil_key=pupil_key, entity=kind.entity), user=scope.user, ip=ip
        )
        return saved

    saved = recorder(request.app).write(land)
    if saved is not None:  # None: a retried post, saved the first time
        rebuilder(request.app).schedule(saved.touched)
    at = now.strftime("%H:%M")
    if htmx:
        context = _form_context(request, target, kind, saved=at, strategies=strategies)
        context["oob"] = True
        return render(request, scope, "_capture_form.html", context)
    query = urlencode({"kind": kind.name, "saved": at})
    return RedirectResponse(f"/capture/{pupil_key}?{query}", status_code=303)
