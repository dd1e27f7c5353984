"""Captures under load: many staff saving at once while the rebuild after captures runs.

A save writes its own row and audit entry and nothing else: it does not wait for a rebuild
(which holds the warehouse's write lock for as long as it takes), nothing is lost or landed
twice, and a steady stream of captures still gets its rebuild. No timings are asserted
beyond "finished while the build was still held".
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of, signed_in

from empowered.access import audit
from empowered.sources import capture as cap
from empowered.warehouse import build as build_module
from empowered.web import capture, recorder
from empowered.web.capture import Rebuilder

pytestmark = pytest.mark.slow

STAFF = 4  # members of staff saving at once
SAVES = 3  # check-ins each


def key_of(html: str) -> str:
    found = re.search(r'name="capture_key" value="([^"]+)"', html)
    assert found
    return found.group(1)


def sql(app: Any, query: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
    with app.state.warehouse.reading() as con:
        return list(con.execute(query, params or []).fetchall())


def landed(app: Any) -> dict[str, int]:
    """Rows in raw per capture batch's hash (the form's key, see ``sources.capture``)."""
    return {
        str(h): int(n)
        for h, n in sql(
            app,
            "SELECT b.file_hash, count(o._batch_id) FROM meta.batches AS b "
            "LEFT JOIN raw.canonical_observations AS o ON o._batch_id = b.batch_id "
            "WHERE b.source = 'capture' GROUP BY 1",
        )
    }


def _user_id(app: Any, names: dict[str, str]) -> int:
    [(user_id,)] = sql(app, "SELECT user_id FROM app.users WHERE username = ?", [names["teacher"]])
    return int(user_id)


class HeldBuild:
    """The real build, held once its work is done and before it lets go of the write
    lock, until ``release``: a rebuild that is taking its time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.holding = threading.Event()
        self.released = threading.Event()
        real = build_module.build_duckdb

        def held(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            self.holding.set()
            assert self.released.wait(timeout=300)
            return result

        monkeypatch.setattr(capture, "build_duckdb", held)

    def release(self) -> None:
        self.released.set()


@pytest.fixture()
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldBuild]:
    made = HeldBuild(monkeypatch)
    yield made
    made.release()  # never leave the rebuild thread waiting


def save_all(
    clients: list[TestClient], pupils: list[str], answers: list[tuple[str, int, bool]]
) -> None:
    """Each client saves ``SAVES`` check-ins, its last form posted twice at once (a double
    tap): (form key, status, "Saved" shown) per post."""
    lock = threading.Lock()

    def one(client: TestClient, n: int) -> None:
        data: dict[str, str] = {}
        for s in range(SAVES):
            pupil = pupils[(n + s) % len(pupils)]
            form = client.get(f"/capture/{pupil}?kind=check_in")
            data = {
                "csrf": csrf_of(form.text),
                "capture_key": key_of(form.text),
                "kind": "check_in",
                "mood": str(1 + (n + s) % 5),
                "engagement": "3",
            }

            def send(pupil: str = pupil, data: dict[str, str] = data) -> None:
                answer = client.post(f"/capture/{pupil}", data=data, headers={"HX-Request": "true"})
                with lock:
                    answers.append(
                        (data["capture_key"], answer.status_code, "capture-saved" in answer.text)
                    )

            if s < SAVES - 1:
                send()
            else:  # the last form twice at the same moment, as a phone resending does
                again = threading.Thread(target=send, daemon=True)
                again.start()
                send()
                again.join(timeout=120)

    threads = [
        threading.Thread(target=one, args=(c, n), daemon=True) for n, c in enumerate(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a save is still waiting"


def test_saves_at_once_while_a_rebuild_runs_land_once_each_and_never_wait_for_it(
    app_and_users: tuple[Any, dict[str, str]], web_trust: Trust, held: HeldBuild
) -> None:
    app, names = app_and_users
    runs = Rebuilder(app, quiet=0, after_build=lambda a: None)
    app.state.capture_rebuilder = runs
    staff = [signed_in(app, names[role]) for role in ("teacher", "senco") * (STAFF // 2)]
    before = landed(app)
    entries = sql(app, "SELECT count(*) FROM app.audit_log WHERE event = 'captured'")[0][0]

    # A first capture starts a rebuild at once (no quiet spell); it does its work and holds.
    first: list[tuple[str, int, bool]] = []
    save_all(staff[:1], web_trust.in_group, first)
    assert held.holding.wait(timeout=300), "the rebuild did not start"
    answers: list[tuple[str, int, bool]] = []
    save_all(staff, web_trust.in_group, answers)
    # Every save finished while the rebuild still held the warehouse's write lock.
    assert not held.released.is_set() and app.state.warehouse.write_lock.locked()
    held.release()
    assert runs.flush(timeout=300)  # and the captures made meanwhile get their own rebuild

    answers += first
    assert all(status == 200 and saved for _, status, saved in answers), answers
    keys = {key for key, _, _ in answers}
    assert len(answers) == len(keys) + STAFF + 1  # each client's last form went twice
    rows = {h: n for h, n in landed(app).items() if h not in before}
    assert len(rows) == len(keys) and set(rows.values()) == {1}  # none lost, none twice
    audited = sql(app, "SELECT count(*) FROM app.audit_log WHERE event = 'captured'")[0][0]
    assert audited == entries + len(keys)
    with app.state.warehouse.reading() as con:
        assert audit.verify(con).ok
    # The last rebuild, with no capture landing during it, carried every one into staging.
    assert runs.last_error is None
    staged = sql(
        app,
        "SELECT count(*) FROM staging.stg_canonical_observations WHERE _batch_id IN "
        "(SELECT batch_id FROM meta.batches WHERE source = 'capture')",
    )[0][0]
    assert staged == sum(1 for h in landed(app))


def test_a_steady_stream_of_captures_still_gets_its_rebuild(
    app_and_users: tuple[Any, dict[str, str]],
) -> None:
    app, _ = app_and_users
    # Captures never leave the quiet spell (an hour here): the rebuild comes anyway once
    # the first waiting capture is ``longest`` seconds old.
    runs = Rebuilder(app, quiet=3600, longest=0.2, after_build=lambda a: None)
    stop = threading.Event()

    def keep_capturing() -> None:
        while not stop.wait(0.05):
            runs.schedule({"raw.canonical_observations"})

    stream = threading.Thread(target=keep_capturing, daemon=True)
    stream.start()
    try:
        for _ in range(1200):  # up to two minutes, for a build on a busy machine
            if runs.builds:
                break
            stop.wait(0.1)
    finally:
        stop.set()
        stream.join()
    assert runs.builds >= 1 and runs.last_error is None
    assert runs.flush(timeout=300)


class Counting:
    """A cursor that notes every statement it runs."""

    def __init__(self, con: Any, ran: list[str]) -> None:
        self._con = con
        self._ran = ran

    def execute(self, query: str, *params: Any) -> Any:
        self._ran.append(" ".join(query.split()))
        return self._con.execute(query, *params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_a_save_writes_only_its_row_and_audit_entry_under_the_lock(
    app_and_users: tuple[Any, dict[str, str]],
    web_trust: Trust,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every page's audit entry waits for the recording lock a save holds: a save holds
    it for one short transaction, with no DDL (it once ran some fifty ``CREATE TABLE IF
    NOT EXISTS`` and ``ALTER TABLE`` statements, twice, on every save)."""
    app, names = app_and_users
    app.state.capture_rebuilder = Rebuilder(app, quiet=3600, after_build=lambda a: None)
    teacher = signed_in(app, names["teacher"])
    pupil = web_trust.in_group[0]
    data = {"kind": "check_in", "mood": "2", "engagement": "2"}
    form = teacher.get(f"/capture/{pupil}?kind=check_in")  # the first save makes raw ready
    teacher.post(f"/capture/{pupil}", data={"csrf": csrf_of(form.text), **data})

    warehouse = app.state.warehouse
    recording = type(warehouse).recording
    ran: list[str] = []

    @contextmanager
    def counted(self: Any) -> Iterator[Any]:
        with recording(self) as con:
            yield Counting(con, ran)

    form = teacher.get(f"/capture/{pupil}?kind=check_in")
    monkeypatch.setattr(type(warehouse), "recording", counted)
    answer = teacher.post(
        f"/capture/{pupil}",
        data={"csrf": csrf_of(form.text), "capture_key": key_of(form.text), **data},
        headers={"HX-Request": "true"},
    )
    monkeypatch.undo()
    assert answer.status_code == 200 and "capture-saved" in answer.text
    assert not [q for q in ran if q.split()[0].upper() in ("CREATE", "ALTER", "DROP")], ran
    assert ran[0] == "BEGIN TRANSACTION" and ran[-1] == "COMMIT"  # one transaction
    # The retried-form check is the batch row's own insert: one statement, not two.
    assert ran[1].startswith("INSERT INTO meta.batches") and "NOT EXISTS" in ran[1], ran
    assert not [q for q in ran if q.startswith("SELECT count(*) FROM meta.batches")], ran
    inserts = [q.split()[2] for q in ran if q.upper().startswith("INSERT INTO")]
    assert inserts == ["meta.batches", "raw.canonical_observations", "app.audit_log"], ran
    # The batch id is drawn before the lock is taken; the entry's id with the entries'.
    assert not [q for q in ran if "meta.batch_seq" in q], ran


def test_writes_queued_behind_the_lock_go_in_one_transaction_and_a_bad_one_fails_alone(
    app_and_users: tuple[Any, dict[str, str]],
    web_trust: Trust,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, names = app_and_users
    app.state.capture_rebuilder = Rebuilder(app, quiet=3600, after_build=lambda a: None)
    staff = [signed_in(app, names["teacher"]) for _ in range(STAFF)]
    pupil = web_trust.in_group[0]
    warehouse = app.state.warehouse
    queue = recorder.recorder(app)
    form = staff[0].get(f"/capture/{pupil}?kind=check_in")  # the first save makes raw ready
    data = {"csrf": csrf_of(form.text), "kind": "check_in", "mood": "2", "engagement": "2"}
    assert staff[0].post(f"/capture/{pupil}", data=data).status_code == 200
    recording = type(warehouse).recording
    ran: list[str] = []

    @contextmanager
    def counted(self: Any) -> Iterator[Any]:
        with recording(self) as con:
            yield Counting(con, ran)

    monkeypatch.setattr(type(warehouse), "recording", counted)

    def queued_behind_the_lock() -> list[tuple[str, Any]]:
        """Every member of staff saves while the lock is held by someone else."""
        forms = [c.get(f"/capture/{pupil}?kind=check_in").text for c in staff]
        outcomes: list[tuple[str, Any]] = []

        def save(client: TestClient, form: str) -> None:
            data = {"csrf": csrf_of(form), "capture_key": key_of(form), "kind": "check_in"}
            try:
                answer = client.post(
                    f"/capture/{pupil}",
                    data={**data, "mood": "4", "engagement": "2"},
                    headers={"HX-Request": "true"},
                )
                outcomes.append((key_of(form), "capture-saved" in answer.text))
            except RuntimeError as err:
                outcomes.append((key_of(form), err))

        def look() -> None:  # a page view's audit entry queues with them
            viewed.append(staff[0].get(f"/capture/{pupil}?kind=check_in").status_code)

        ran.clear()
        viewed: list[int] = []
        with warehouse.record_lock:
            threads = [
                threading.Thread(target=save, args=(c, f), daemon=True)
                for c, f in zip(staff, forms, strict=True)
            ] + [threading.Thread(target=look, daemon=True)]
            for t in threads:
                t.start()
            for _ in range(600):
                if len(queue._queue) == len(threads):
                    break
                threading.Event().wait(0.1)
        for t in threads:
            t.join(timeout=120)
        assert viewed == [200]
        return outcomes

    before = len(landed(app))
    outcomes = queued_behind_the_lock()
    assert [saved for _, saved in outcomes] == [True] * STAFF
    assert ran.count("BEGIN TRANSACTION") == ran.count("COMMIT") == 1  # one for them all
    # Their audit entries (a capture's each, and the page view's) go in one statement.
    assert sum(q.startswith("INSERT INTO app.audit_log") for q in ran) == 1
    with warehouse.reading() as con:
        assert audit.verify(con).ok
        [(entries,)] = con.execute(
            "SELECT count(*) FROM app.audit_log WHERE event IN ('captured', 'viewed_pupil') "
            "AND event_id > (SELECT max(event_id) - ? FROM app.audit_log)",
            [STAFF + 1],
        ).fetchall()
    assert entries == STAFF + 1
    assert len(landed(app)) == before + STAFF

    # A save that cannot be written fails alone: the others are written one by one.
    real = cap.land_once
    bad: list[str] = []

    def fails_once_for_one(con: Any, prepared: cap.PreparedCapture, *args: Any) -> Any:
        if not bad:
            bad.append(prepared.batch.file_hash)
        if prepared.batch.file_hash == bad[0]:
            raise RuntimeError("the disk is full")
        return real(con, prepared, *args)

    monkeypatch.setattr(cap, "land_once", fails_once_for_one)
    outcomes = queued_behind_the_lock()
    monkeypatch.undo()
    failed = [key for key, outcome in outcomes if isinstance(outcome, RuntimeError)]
    staff_ref = cap.staff_ref(_user_id(app, names))
    assert [cap._batch_hash(staff_ref, key, "") for key in failed] == bad
    assert sum(outcome is True for _, outcome in outcomes) == STAFF - 1
    assert len(landed(app)) == before + 2 * STAFF - 1
    with warehouse.reading() as con:
        assert audit.verify(con).ok


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no thread priorities here")
def test_the_rebuild_asks_for_less_cpu_than_the_requests(
    app_and_users: tuple[Any, dict[str, str]],
) -> None:
    """On two cores a rebuild would otherwise take the CPU a save needs."""
    app, _ = app_and_users
    seen: list[int] = []
    runs = Rebuilder(
        app,
        quiet=0,
        after_build=lambda a: seen.append(
            os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        ),
    )
    runs.schedule({"raw.canonical_observations"})
    assert runs.wait_idle(timeout=300) and runs.last_error is None
    ours = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert seen and seen[0] == min(19, ours + capture.REBUILD_NICENESS)


def test_the_rebuild_runs_on_its_own_lower_priority_thread_alone(
    app_and_users: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's worker threads (at the usual priority) sit out the rebuild, so none of its
    work competes with the saves at their priority; they are back for the pages after."""
    app, _ = app_and_users
    real = build_module.build_duckdb
    seen: list[int] = []

    def watched(con: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(int(con.execute("SELECT current_setting('threads')").fetchall()[0][0]))
        return real(con, *args, **kwargs)

    monkeypatch.setattr(capture, "build_duckdb", watched)
    with app.state.warehouse.reading() as con:
        [(before,)] = con.execute("SELECT current_setting('threads')").fetchall()
    runs = Rebuilder(app, quiet=0, after_build=lambda a: None)
    runs.schedule({"raw.canonical_observations"})
    assert runs.wait_idle(timeout=300) and runs.last_error is None
    assert seen == [1]
    with app.state.warehouse.reading() as con:
        assert con.execute("SELECT current_setting('threads')").fetchall() == [(before,)]


def test_a_write_cut_short_is_never_reported_written(tmp_path: Path) -> None:
    """A writer stopped half-way through a group (the server shutting down) leaves every
    write of the group unwritten and says so: none answers as if saved."""
    from empowered.access.audit import ViewedPage, record
    from empowered.access.store import ensure_access_tables
    from empowered.web.warehouse import Warehouse

    warehouse = Warehouse(tmp_path / "w.duckdb")
    with warehouse.writing() as con:
        ensure_access_tables(con)

    def entry(con: Any) -> None:
        record(con, ViewedPage(page="/before-the-stop"), user=None)

    def stop(con: Any) -> None:
        raise KeyboardInterrupt

    group = [recorder._Queued(entry), recorder._Queued(stop)]
    with pytest.raises(KeyboardInterrupt), warehouse.recording() as con:
        recorder._run(con, group)
    assert all(q.done and not q.written for q in group)
    with warehouse.reading() as con:
        assert con.execute("SELECT count(*) FROM app.audit_log").fetchall() == [(0,)]
    warehouse.close()


def test_the_raw_tables_are_made_at_start_not_by_the_first_save(
    app_and_users: tuple[Any, dict[str, str]],
) -> None:
    """Their fifty-odd DDL statements ran under the recording lock on the first save of
    each server, with every save of the morning's first burst queued behind it."""
    app, _ = app_and_users
    app.state.raw_tables_ready = False
    capture.start(app)
    assert app.state.raw_tables_ready is True
