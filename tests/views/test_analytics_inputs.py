"""Which schools' analytics must be computed again after a build: fingerprints of the
analytics' inputs per school, and results kept in the warehouse only for the inputs they
came from."""

from __future__ import annotations

import csv
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from empowered.analytics.situations import (
    StandingSituation,
    load_harder_situations,
    standing_out,
)
from empowered.sources.importer import import_canonical_folder
from empowered.views.cache import FINGERPRINTS, SchoolAnalyticsCache
from empowered.views.inputs import (
    Fingerprints,
    analytics_inputs,
    fingerprints,
    rebuilt_inputs,
    schools_to_rewarm,
    unbuilt_inputs,
)
from empowered.views.stored_results import MISSING, ResultStore, loads
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult
from identity_keys import TEST_KEYS

Add = Callable[[duckdb.DuckDBPyConnection, str], BuildResult]


@pytest.fixture
def con(warehouse_copy: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    return warehouse_copy


def writer_of(con: duckdb.DuckDBPyConnection):  # type: ignore[no-untyped-def]
    @contextmanager
    def writing() -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    return writing


def schools(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        s for (s,) in con.execute("SELECT school_urn FROM core.dim_school ORDER BY 1").fetchall()
    ]


@pytest.fixture
def add_incident(
    small_trust: Path, tmp_path: Path
) -> Callable[[duckdb.DuckDBPyConnection, str], BuildResult]:
    """Import one new incident at one school and rebuild what it touches, as the server
    does after an upload."""

    def add(con: duckdb.DuckDBPyConnection, school: str) -> BuildResult:
        with (small_trust / "incidents.csv").open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r["school_urn"] == school]
        folder = tmp_path / f"incident-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        with (folder / "incidents.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerow(rows[0] | {"incident_id": rows[0]["incident_id"] + "-new"})
        result = import_canonical_folder(con, folder, keys=TEST_KEYS)
        built = build_duckdb(con, touched=result.touched_raw_tables())
        assert built.ok
        return built

    return add


def test_the_inputs_are_the_tables_the_analytics_queries_read() -> None:
    inputs = analytics_inputs()
    assert {"marts.attendance_pupil_day", "marts.wellbeing_pupil_day"} <= set(inputs)
    assert {"meta.trigger_rules", "reference.national_figure"} <= set(inputs)
    assert all(t.count(".") == 1 for t in inputs)


def test_without_a_previous_fingerprint_every_school_and_the_trust_are_warmed() -> None:
    current = Fingerprints({"marts.x": {"A": "1:1", "B": "2:2", "": "0:0"}})
    assert schools_to_rewarm(None, current) == {"A", "B", None}


def test_only_the_schools_whose_rows_changed_are_warmed_again() -> None:
    before = Fingerprints({"marts.x": {"A": "1:1", "B": "2:2"}, "meta.r": {"": "5:5"}})
    same = Fingerprints({"marts.x": {"A": "1:1", "B": "2:2"}, "meta.r": {"": "5:5"}})
    assert schools_to_rewarm(before, same) == frozenset()
    one = Fingerprints({"marts.x": {"A": "1:1", "B": "2:3"}, "meta.r": {"": "5:5"}})
    assert schools_to_rewarm(before, one) == {"B", None}
    new_school = Fingerprints(
        {"marts.x": {"A": "1:1", "B": "2:2", "C": "1:9"}, "meta.r": {"": "5:5"}}
    )
    assert schools_to_rewarm(before, new_school) == {"C", None}
    # Rows of no school (the trigger rules, the reference figures) concern every school.
    rules = Fingerprints({"marts.x": {"A": "1:1", "B": "2:2"}, "meta.r": {"": "6:6"}})
    assert schools_to_rewarm(before, rules) == {"A", "B", None}


def test_a_rebuild_after_one_schools_import_changes_that_schools_fingerprint_only(
    con: duckdb.DuckDBPyConnection, add_incident: Add
) -> None:
    urns = schools(con)
    before = fingerprints(con)
    assert before.schools() >= set(urns)  # and trust-level rows some marts keep
    result = build_duckdb(con, touched=["raw.canonical_incidents"])
    assert result.ok
    unchanged = fingerprints(con)
    assert schools_to_rewarm(before, unchanged) == frozenset(), "a rebuild of the same rows"
    result = add_incident(con, urns[0])
    rebuilt = rebuilt_inputs(result)
    assert "marts.behaviour_incident" in rebuilt
    assert "marts.attendance_pupil_day" not in rebuilt, "attendance was not rebuilt"
    assert "meta.trigger_rules" in rebuilt, "no model builds the rules: always read"
    # Reading only the rebuilt tables gives the same fingerprints as reading them all.
    narrowed = fingerprints(con, tables=rebuilt, previous=unchanged)
    after = fingerprints(con)
    assert all(narrowed.of(s) == after.of(s) for s in [*urns, None])
    assert schools_to_rewarm(unchanged, after) == {urns[0], None}


def test_results_are_read_back_only_for_the_inputs_they_came_from(
    con: duckdb.DuckDBPyConnection, add_incident: Add
) -> None:
    school = schools(con)[0]
    store = ResultStore(writer_of(con))
    first = SchoolAnalyticsCache(store)
    alerts = first.alerts(con, school)
    assert (first.computed, first.loaded) == (1, 0)
    # A restart: a new cache reads the result back instead of computing it.
    second = SchoolAnalyticsCache(store)
    assert second.alerts(con, school) == alerts
    assert (second.computed, second.loaded) == (0, 1)
    digest = second.inputs.of(school) if second.inputs else ""
    assert store.load(con, "alerts", school, "other inputs") is MISSING
    # After that school's data changed, its result is computed again, not read back.
    add_incident(con, school)
    third = SchoolAnalyticsCache(store)
    third.alerts(con, school)
    assert (third.computed, third.loaded) == (1, 0)
    assert third.inputs is not None and third.inputs.of(school) != digest
    # Pruning leaves nothing computed from inputs that are gone.
    store.prune({school: third.inputs.of(school)}, [school])
    kept = con.execute(
        "SELECT DISTINCT inputs FROM app.analytics_results WHERE kind <> ?", [FINGERPRINTS]
    ).fetchall()
    assert kept == [(third.inputs.of(school),)]


def test_a_restart_reads_the_builds_fingerprints_back_instead_of_hashing_every_input(
    con: duckdb.DuckDBPyConnection, add_incident: Add, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing every input table took a second or more of the first page after a start on
    a busy machine (issue 11): a restart on the same build reads them back, and reads
    again only the inputs no model builds (an admin may edit the trigger rules)."""
    from empowered.views import cache as cache_module

    store = ResultStore(writer_of(con))
    hashed = SchoolAnalyticsCache(store).refresh(con)
    read: list[set[str] | None] = []
    real = cache_module.fingerprints

    def watched(
        c: duckdb.DuckDBPyConnection,
        *,
        tables: Iterable[str] | None = None,
        previous: Fingerprints | None = None,
    ) -> Fingerprints:
        read.append(None if tables is None else set(tables))
        return real(c, tables=tables, previous=previous)

    monkeypatch.setattr(cache_module, "fingerprints", watched)
    assert SchoolAnalyticsCache(store).refresh(con) == hashed
    assert read == [set(unbuilt_inputs())]
    # A new build's inputs are hashed, not taken from the build before.
    school = schools(con)[0]
    add_incident(con, school)
    read.clear()
    after = SchoolAnalyticsCache(store).refresh(con)
    assert read == [None] and after.of(school) != hashed.of(school)
    assert SchoolAnalyticsCache(store).refresh(con) == after


def test_a_cache_keeps_the_results_of_schools_whose_inputs_did_not_change(
    con: duckdb.DuckDBPyConnection, add_incident: Add
) -> None:
    first, second = schools(con)[:2]
    cache = SchoolAnalyticsCache()
    cache.warm(con, [first, second])
    computed = cache.computed
    add_incident(con, first)
    # A fresh cursor, as each request takes: the cache trusts the build a cursor saw for
    # up to a second, and the import and rebuild can take less than that.
    cache.warm(con.cursor(), [first, second])
    # Only the first school's per-school results were computed again (four of them:
    # what helps, harder situations, the alerts and the review queue, and its five
    # register and provision questions).
    assert cache.computed - computed == 9


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("true",))


def test_a_stored_result_cannot_run_code(tmp_path: Path) -> None:
    import zlib

    data = zlib.compress(pickle.dumps(_Evil()))
    with pytest.raises(pickle.UnpicklingError):
        loads(data)
    assert loads(zlib.compress(pickle.dumps({"a": (1, 2.5, "x")}))) == {"a": (1, 2.5, "x")}


def test_a_derived_value_is_kept_while_its_schools_inputs_stay_the_same(
    con: duckdb.DuckDBPyConnection, add_incident: Add
) -> None:
    first, second = schools(con)[:2]
    cache = SchoolAnalyticsCache()
    made: list[str] = []

    def make(school: str) -> str:
        made.append(school)
        return f"worked out for {school}"

    for school in (first, second, first, second):
        assert cache.derived(con, "test", school, "day", lambda s=school: make(s)).endswith(school)
    assert made == [first, second], "each worked out once"
    add_incident(con, first)
    # A page reads through a cursor of its own (web.warehouse), so it sees the new build at
    # once; one cursor trusts the build it saw for a second (a page's worth).
    page = con.cursor()
    for school in (first, second):
        cache.derived(page, "test", school, "day", lambda s=school: make(s))
    assert made == [first, second, first], "again only for the school whose inputs changed"
    cache.derived(page, "test", second, "another day", lambda: make(second))
    assert made[-1] == second, "what else it depends on is part of the key"


def test_stored_results_of_every_school_are_read_back_in_one_go(
    con: duckdb.DuckDBPyConnection,
) -> None:
    first, second = schools(con)[:2]
    store = ResultStore(writer_of(con))
    SchoolAnalyticsCache(store).warm(con, [first, second])
    restarted = SchoolAnalyticsCache(store)
    assert restarted.prefetch(con, ["alerts", "review_queue"], [first, second]) == 4
    assert (restarted.computed, restarted.loaded) == (0, 4)
    restarted.alerts(con, first)
    restarted.review_queue(con, second)
    assert (restarted.computed, restarted.loaded) == (0, 4), "served from memory"
    # Nothing is read back for inputs that are no longer the current ones.
    con.execute("UPDATE app.analytics_results SET inputs = 'older'")
    again = SchoolAnalyticsCache(store)
    assert again.prefetch(con, ["alerts"], [first, second]) == 0


def test_a_schools_digest_is_worked_out_once_and_not_stored() -> None:
    tables = {
        "core.fct_a": {"": "1:g", "100001": "3:a", "100002": "4:b"},
        "core.fct_b": {"100001": "5:c"},
    }
    kept = Fingerprints(tables)
    first = {s: kept.of(s) for s in ("100001", "100002", None)}
    # Asked again, the same digests; a fresh object with the same tables agrees.
    assert {s: kept.of(s) for s in first} == first
    assert {s: Fingerprints(tables).of(s) for s in first} == first
    assert len(set(first.values())) == 3
    # One school's inputs changed: its digest and the trust's change, the other's not.
    changed = Fingerprints({**tables, "core.fct_b": {"100001": "6:d"}})
    assert changed.of("100001") != first["100001"]
    assert changed.of(None) != first[None]
    assert changed.of("100002") == first["100002"]
    # Stored and read back: the same tables, and no digest carried over from this process.
    again = pickle.loads(pickle.dumps(kept))
    assert again == kept and "_of" not in again.__dict__
    assert again.of("100002") == first["100002"]


def test_the_unbuilt_inputs_are_worked_out_once_not_at_every_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from empowered.warehouse import models

    first = unbuilt_inputs()
    assert "meta.trigger_rules" in first and not first & set(models.discover_models())

    def rediscovered() -> object:
        raise AssertionError("the models were discovered again")

    monkeypatch.setattr(models, "discover_models", rediscovered)
    assert unbuilt_inputs() == first


def test_a_school_keeps_only_the_harder_situations_the_pages_show(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Every context compared (with its tests) was kept: about 50 MB for a trust, whose
    reading back held a restart's pages past 5 s (issue 11), for the few dozen situations
    a school that the pages show. The cache keeps those alone, in a plain form."""
    school = max(
        schools(con), key=lambda s: len(standing_out(load_harder_situations(con, school_urn=s)))
    )
    everything = load_harder_situations(con, school_urn=school)
    shown = standing_out(everything)
    assert shown and len(shown) < len(everything)
    store = ResultStore(writer_of(con))
    cache = SchoolAnalyticsCache(store)
    assert cache.standing_situations(con, school) == shown
    assert all(isinstance(h, StandingSituation) for h in shown)
    stored = {
        kind: loads(value)
        for kind, value in con.execute(
            "SELECT kind, value FROM app.analytics_results WHERE school_urn = ?", [school]
        ).fetchall()
    }
    assert stored == {"harder_standing": shown}
    restarted = SchoolAnalyticsCache(store)
    assert restarted.standing_situations(con, school) == shown
    assert (restarted.computed, restarted.loaded) == (0, 1)
    # An older server kept the whole list: the next prune deletes it.
    inputs = restarted.inputs
    assert inputs is not None
    store.save("harder_situations", school, inputs.of(school), everything)
    store.prune({school: inputs.of(school), None: inputs.of(None)}, [school])
    kinds = con.execute("SELECT DISTINCT kind FROM app.analytics_results ORDER BY 1").fetchall()
    assert kinds == sorted([(FINGERPRINTS,), ("harder_standing",)])
