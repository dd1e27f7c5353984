"""The analytics cache warms itself: at start-up for every school, without any page being
asked for, and again after a rebuild; pages asked for meanwhile still work, and the two
never compute the same result twice."""

from __future__ import annotations

import csv
import gc
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, csrf_of

from empowered.access.users import add_user
from empowered.views.cache import build_id
from empowered.warehouse.runner import BuildResult
from empowered.web import warming
from empowered.web.app import create_app
from identity_keys import TEST_KEYS

pytestmark = pytest.mark.slow

# What the pupil and home pages need per school, and the register's and provision map's
# questions, per school and for the whole trust (None).
PUPIL_KINDS = ("strategy_effects", "harder_standing", "alerts", "review_queue")
QUESTION_KINDS = (
    "compare_with_national",
    "provision_against_need",
    "training_against_need",
    "attendance_without_plan",
    "provision_overview",
)


def every_result(schools: list[str]) -> set[tuple[str, str | None]]:
    return {(kind, school) for kind in PUPIL_KINDS + QUESTION_KINDS for school in schools} | {
        (kind, None) for kind in QUESTION_KINDS
    }


@pytest.fixture
def warehouse(built_warehouse: Path, tmp_path: Path) -> Path:
    path = tmp_path / "warm.duckdb"
    shutil.copy(built_warehouse, path)
    return path


@pytest.fixture
def app(warehouse: Path) -> Iterator[FastAPI]:
    application = create_app(warehouse)
    yield application
    run = warming.current(application)
    if run is not None:
        run.wait(timeout=300)
    application.state.warehouse.close()


def schools_of(app: FastAPI) -> list[str]:
    with app.state.warehouse.reading() as con:
        return [r[0] for r in con.execute("SELECT school_urn FROM core.dim_school").fetchall()]


def import_one_incident(app: FastAPI, small_trust: Path, tmp_path: Path) -> BuildResult:
    """Import one new incident at the first school and rebuild what it touches."""
    from empowered.sources.importer import import_canonical_folder
    from empowered.warehouse.build import build_duckdb

    school = schools_of(app)[0]
    folder = tmp_path / "one-incident"
    folder.mkdir()
    with (small_trust / "incidents.csv").open(newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["school_urn"] == school)
    with (folder / "incidents.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row | {"incident_id": row["incident_id"] + "-new"})
    with app.state.warehouse.writing() as con:
        landed = import_canonical_folder(con, folder, keys=TEST_KEYS)
        result = build_duckdb(con, touched=landed.touched_raw_tables())
    assert result.ok
    return result


def cached(app: FastAPI) -> set[tuple[str, str | None]]:
    """(kind, school) pairs the cache holds for the current build."""
    return set(app.state.cache._values)


def test_starting_the_server_warms_every_school_without_a_page_being_asked_for(
    app: FastAPI, warehouse: Path, caplog: pytest.LogCaptureFixture
) -> None:
    schools = schools_of(app)
    caplog.set_level(logging.INFO, logger="empowered.web.warming")
    with TestClient(app):  # runs the lifespan, as the server does
        run = warming.current(app)
        assert run is not None and run.reason == "start-up"
        assert run.wait(timeout=300), "warming did not finish"
    assert run.error is None
    assert (run.schools, run.warmed) == (len(schools), len(schools))
    assert cached(app) == every_result(schools)
    assert app.state.cache.computed == len(every_result(schools))
    with app.state.warehouse.reading() as con:
        assert run.build == build_id(con)
    # Progress is logged by school and count, never by pupil.
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert f"{len(schools)} schools warm" in messages
    con = app.state.warehouse
    with con.reading() as cursor:
        keys = {k for (k,) in cursor.execute("SELECT pupil_key FROM core.dim_pupil").fetchall()}
    assert not any(key in messages for key in keys)


def test_pages_asked_for_while_warming_still_work_and_nothing_is_computed_twice(
    app: FastAPI, warehouse: Path
) -> None:
    with app.state.warehouse.writing() as con:
        school, pupil = con.execute(
            "SELECT school_urn, min(pupil_key) FROM core.fct_enrolment GROUP BY 1 ORDER BY 1 "
            "DESC LIMIT 1"
        ).fetchone() or ("", "")
        add_user(con, "warm-senco", PASSWORD, "senco", school_urn=school)
    schools = schools_of(app)
    with TestClient(app) as client:
        form = client.get("/sign-in")
        client.post(
            "/sign-in",
            data={"username": "warm-senco", "password": PASSWORD, "csrf": csrf_of(form.text)},
        )
        # Straight away: the last school is the last to be warmed, so this page most
        # likely computes its own results while the thread warms the others.
        for page in (f"/pupils/{pupil}", "/", "/register", "/provision"):
            assert client.get(page).status_code == 200, page
        run = warming.current(app)
        assert run is not None and run.wait(timeout=300)
        assert run.error is None
        computed = app.state.cache.computed
        assert computed == len(every_result(schools))
        # Once warm, pages are served from the cache.
        for page in (f"/pupils/{pupil}", "/", "/register", "/provision"):
            assert client.get(page).status_code == 200, page
        assert app.state.cache.computed == computed


def test_after_a_rebuild_only_the_schools_whose_inputs_changed_are_warmed(
    app: FastAPI, warehouse: Path, small_trust: Path, tmp_path: Path
) -> None:
    from empowered.warehouse.build import build_duckdb

    schools = schools_of(app)
    with TestClient(app):
        first = warming.current(app)
        assert first is not None and first.wait(timeout=300)
        # A rebuild that changes none of the analytics' inputs warms nothing again.
        with app.state.warehouse.writing() as con:
            result = build_duckdb(con, touched=["raw.canonical_staff_training"])
            assert result.ok and result.results, "the rebuild ran models"
            new_build = build_id(con)
        assert new_build != first.build
        before = app.state.cache.computed
        warming.after_build(app, result)
        second = warming.current(app)
        assert second is not None and second is not first and second.reason == "rebuild"
        assert second.wait(timeout=300) and second.error is None
        assert second.build == new_build and (second.schools, second.warmed) == (0, 0)
        assert app.state.cache.computed == before
        assert cached(app) == every_result(schools), "every result kept for the new build"
        # An import at one school: that school and the whole trust are warmed again.
        warming.after_build(app, import_one_incident(app, small_trust, tmp_path))
        third = warming.current(app)
        assert third is not None and third.wait(timeout=300) and third.error is None
        assert (third.schools, third.warmed) == (1, 1)
    assert cached(app) == every_result(schools)
    # The school's four results and five questions, and the trust's five questions.
    assert app.state.cache.computed == before + len(PUPIL_KINDS) + 2 * len(QUESTION_KINDS)


def test_a_restart_reads_the_results_back_instead_of_computing_them(warehouse: Path) -> None:
    schools: list[str] = []
    for start in ("first", "restart"):
        app = create_app(warehouse)
        try:
            schools = schools or schools_of(app)
            with TestClient(app):
                run = warming.current(app)
                assert run is not None and run.wait(timeout=300) and run.error is None
                assert run.warmed == len(schools)
            assert cached(app) == every_result(schools)
            cache = app.state.cache
            if start == "first":
                assert (cache.computed, cache.loaded) == (len(every_result(schools)), 0)
            else:
                # Read back, every one of them: nothing computed.
                assert (cache.computed, cache.loaded) == (0, len(every_result(schools)))
        finally:
            app.state.warehouse.close()


_RESTART = """
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from empowered.web import warming
from empowered.web.app import create_app
app = create_app(Path(sys.argv[1]))
with TestClient(app):
    run = warming.current(app)
    assert run is not None and run.wait(timeout=300) and run.error is None
    print(",".join(m for m in warming.PRELOADED if m in sys.modules))
app.state.warehouse.close()
"""


def test_a_restarted_server_loads_the_analytics_libraries_before_its_first_pupil_page(
    warehouse: Path,
) -> None:
    """At a restart every result is read back, so nothing computed loads the libraries the
    analytics import on first use: the first pupil page did (a second of imports, every
    page in flight waiting). A restarted server, in an interpreter of its own, has them
    once its start-up warming ends."""
    import subprocess
    import sys

    app = create_app(warehouse)  # the first start computes every result and stores it
    try:
        with TestClient(app):
            run = warming.current(app)
            assert run is not None and run.wait(timeout=300) and run.error is None
    finally:
        app.state.warehouse.close()
    restarted = subprocess.run(
        [sys.executable, "-c", _RESTART, str(warehouse)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    loaded = restarted.stdout.strip().splitlines()[-1:]  # what it had once warm
    assert loaded == [",".join(warming.PRELOADED)]


def test_a_page_for_a_cold_school_is_served_while_warming_is_still_running(
    app: FastAPI, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.state.warehouse.writing() as con:
        school, pupil = con.execute(
            "SELECT school_urn, min(pupil_key) FROM core.fct_enrolment GROUP BY 1 ORDER BY 1 "
            "DESC LIMIT 1"
        ).fetchone() or ("", "")
        add_user(con, "cold-senco", PASSWORD, "senco", school_urn=school)
    cache = app.state.cache
    # The warming thread is held at its first school until the page has been served.
    release = threading.Event()
    holding = threading.Event()
    warm = cache.warm

    def held_warm(con: object, schools: list[str | None], **options: object) -> None:
        holding.set()
        assert release.wait(timeout=300)
        warm(con, schools, **options)

    monkeypatch.setattr(cache, "warm", held_warm)
    try:
        with TestClient(app) as client:
            assert holding.wait(timeout=120), "warming started"
            form = client.get("/sign-in")
            client.post(
                "/sign-in",
                data={"username": "cold-senco", "password": PASSWORD, "csrf": csrf_of(form.text)},
            )
            assert client.get(f"/pupils/{pupil}").status_code == 200
            run = warming.current(app)
            assert run is not None and not run.done.is_set(), "warming is still running"
            assert run.warmed == 0
            # The page computed its own school's results, and only those.
            assert {s for _, s in cached(app)} == {school}
            release.set()
            assert run.wait(timeout=300) and run.error is None
    finally:
        release.set()


def test_an_unbuilt_warehouse_has_nothing_to_warm_and_the_server_still_starts(
    tmp_path: Path,
) -> None:
    app = create_app(tmp_path / "empty.duckdb")
    try:
        with TestClient(app) as client:
            run = warming.current(app)
            assert run is not None and run.wait(timeout=60)
            assert client.get("/sign-in").status_code == 200
        assert run.error is None and run.schools == 0 and run.warmed == 0
    finally:
        app.state.warehouse.close()


def test_warming_gives_way_to_the_pages_being_answered(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    schools = schools_of(app)
    monkeypatch.setattr(warming, "YIELD_SECONDS", 300.0)
    counter = warming.traffic(app)
    counter.begin()  # a page being answered
    waiting = threading.Event()
    wait_idle = counter.wait_idle

    def spied(timeout: float) -> bool:
        waiting.set()
        return wait_idle(timeout)

    monkeypatch.setattr(counter, "wait_idle", spied)
    with TestClient(app):
        assert waiting.wait(timeout=120), "the thread reached its first school"
        run = warming.current(app)
        assert run is not None and run.warmed == 0 and not run.done.is_set()
        counter.end()  # the page is answered: warming carries on
        assert run.wait(timeout=300) and run.error is None
        assert run.warmed == len(schools)


def test_requests_are_counted_while_they_are_answered() -> None:
    counter = warming.Traffic()
    assert counter.wait_idle(0)
    counter.begin()
    counter.begin()
    counter.end()
    assert not counter.wait_idle(0), "one request still in flight"
    counter.end()
    assert counter.wait_idle(0)


def test_after_a_rebuild_warming_waits_for_a_quiet_moment_while_pages_keep_coming(
    app: FastAPI, small_trust: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff saving check-ins keep the server busy for minutes: warming after each capture
    rebuild took 45% of the interpreter then, and the saves' p95 went from 56 to 600 ms.
    After a rebuild it computes one result, then waits for a quiet moment."""
    monkeypatch.setattr(warming, "QUIET_SECONDS", 0.3)
    monkeypatch.setattr(warming, "BUSY_SHARE", 1e-6)  # while busy: nothing after the first
    counter = warming.traffic(app)
    with TestClient(app):
        first = warming.current(app)
        assert first is not None and first.wait(timeout=300)
        result = import_one_incident(app, small_trust, tmp_path)
        before = app.state.cache.computed
        counter.begin()  # pages are being answered, and go on being answered
        warming.after_build(app, result)
        run = warming.current(app)
        assert run is not None and run.reason == "rebuild"
        assert not run.wait(timeout=3), "warming went on while pages were being answered"
        assert app.state.cache.computed == before + 1, "one result, then it gave way"
        counter.end()  # the last page is answered: after a quiet moment, warming goes on
        assert run.wait(timeout=300) and run.error is None and run.warmed == 1
    assert app.state.cache.computed == before + len(PUPIL_KINDS) + 2 * len(QUESTION_KINDS)


def test_after_a_rebuild_warming_still_finishes_when_pages_never_stop(
    app: FastAPI, small_trust: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under traffic that never pauses it takes its share of the time (here half)."""
    monkeypatch.setattr(warming, "BUSY_SHARE", 0.5)
    counter = warming.traffic(app)
    with TestClient(app):
        first = warming.current(app)
        assert first is not None and first.wait(timeout=300)
        result = import_one_incident(app, small_trust, tmp_path)
        counter.begin()
        try:
            warming.after_build(app, result)
            run = warming.current(app)
            assert run is not None and run.wait(timeout=300), "warming never finished"
            assert run.error is None and run.warmed == 1
        finally:
            counter.end()


def test_a_quiet_moment_is_one_with_no_request_for_a_while() -> None:
    counter = warming.Traffic()
    assert counter.wait_quiet(0.2, timeout=0), "no request yet: quiet"
    counter.begin()
    assert not counter.wait_quiet(0.2, timeout=0.1), "a request in flight"
    counter.end()
    assert not counter.wait_quiet(0.2, timeout=0.05), "one ended a moment ago"
    assert counter.wait_quiet(0.2, timeout=1.0), "and none since"


def test_stopping_the_server_ends_warming_at_its_next_result(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process must not exit with the thread inside a query (DuckDB aborts then)."""
    monkeypatch.setattr(warming, "YIELD_SECONDS", 300.0)
    counter = warming.traffic(app)
    counter.begin()  # a page being answered holds warming at its first result
    waiting = threading.Event()
    wait_idle = counter.wait_idle

    def spied(timeout: float) -> bool:
        waiting.set()
        return wait_idle(timeout)

    monkeypatch.setattr(counter, "wait_idle", spied)
    with TestClient(app):
        assert waiting.wait(timeout=120)
        run = warming.current(app)
        assert run is not None
    # Leaving the client ran the server's shutdown: the run has ended, cleanly.
    assert run.done.is_set() and run.thread is not None and not run.thread.is_alive()
    assert run.error is None and run.warmed == 0
    counter.end()


def test_the_warming_after_the_last_rebuild_at_stop_ends_before_the_warehouse_closes(
    app: FastAPI, small_trust: Path, tmp_path: Path
) -> None:
    """Stopping the server runs the rebuild captures are still waiting for, which starts a
    warming run; it must end too, not be cut off by the close (ConnectionException)."""
    from empowered.web.capture import rebuilder

    with TestClient(app):
        first = warming.current(app)
        assert first is not None and first.wait(timeout=300)
        import_one_incident(app, small_trust, tmp_path)  # what the captures' rebuild finds
        rebuilder(app).schedule({"raw.canonical_incidents"})  # waiting for its quiet spell
    last = warming.current(app)
    assert last is not None and last is not first and last.reason == "rebuild"
    assert last.done.is_set() and last.thread is not None and not last.thread.is_alive()
    assert last.error is None


def test_after_a_build_and_its_warming_a_quiet_moment_folds_the_warehouses_log(
    app: FastAPI, warehouse: Path
) -> None:
    """The commits of imports and captures leave the log to grow (warehouse.connection);
    the server folds it into the file when nothing is happening."""
    wal = warehouse.with_name(warehouse.name + ".wal")
    with TestClient(app):
        first = warming.current(app)
        assert first is not None and first.wait(timeout=300)
        with app.state.warehouse.writing() as con:
            con.execute(
                "CREATE TABLE raw.big AS SELECT range AS id, md5(range::VARCHAR) AS v "
                "FROM range(1500000)"
            )
            con.execute("UPDATE raw.big SET v = upper(v)")  # rows rewritten are logged
        assert wal.stat().st_size > 16 * 1024 * 1024
        warming.after_build(app)
        run = warming.current(app)
        assert run is not None and run.wait(timeout=300) and run.error is None
        for _ in range(200):
            if not wal.exists() or wal.stat().st_size == 0:
                break
            time.sleep(0.1)
        assert not wal.exists() or wal.stat().st_size == 0, "the log was folded"


def test_the_whole_trusts_questions_are_warmed_before_each_schools_whole_set(
    app: FastAPI,
) -> None:
    # The trust's register and its spreadsheet wait for the trust's questions; a school's
    # pupil pages wait only for that school: the trust's few results come first.
    with TestClient(app):
        run = warming.current(app)
        assert run is not None and run.wait(timeout=300) and run.error is None
    order = list(app.state.cache._values)  # in the order they were warmed
    last_trust = max(i for i, (_, school) in enumerate(order) if school is None)
    first_whole_set = min(i for i, (kind, _) in enumerate(order) if kind == "harder_standing")
    assert last_trust < first_whole_set


def test_what_warming_leaves_is_set_aside_from_the_cycle_collector(app: FastAPI) -> None:
    """Every full collection walked the whole server (the cache's results and every
    module): under ten users one came every few trust home pages and stopped every page
    for 200-600 ms (issue 11). After warming, what it leaves is frozen out of the
    collector's walk; the server's stop hands it back."""
    with TestClient(app):
        run = warming.current(app)
        assert run is not None and run.wait(timeout=300) and run.error is None
        result = app.state.cache._values[("alerts", schools_of(app)[0])][1]
        assert gc.get_freeze_count() > 0
        assert not any(o is result for o in gc.get_objects())
    assert gc.get_freeze_count() == 0
