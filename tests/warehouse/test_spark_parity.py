"""Spark builds the lake, and the lake equals DuckDB's own build row for row.

A small trust (with the app's records, schools' own rows and a chosen ambiguous pupil) is
built on DuckDB, its sources published to a lake, and the lake built by local PySpark. A
second copy of the warehouse is then served from the lake (every model a view over the
lake's Parquet): its tables, its pages and its view services must read exactly as the
DuckDB-built warehouse's. A day of one school's check-ins is then built again on both,
Spark rebuilding only the batch, pupils and days they reached and writing only that
school's files; and a Spark build stopped part-way, or killed outright, leaves the lake's
previous tables readable."""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from empowered.warehouse.lake import Lake
from empowered.warehouse.runner import BuildResult

# The pages are compared with the web tests' own sign-in and crawl.
sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
from web_fixtures import PASSWORD  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.spark]

if shutil.which("java") is None:  # pragma: no cover - scripts/test.sh installs Java
    pytest.skip("PySpark needs a Java runtime", allow_module_level=True)
pytest.importorskip("pyspark")


def normalise(value: Any) -> Any:
    # Spark types 60.0 as a decimal and DuckDB as a double; compare numbers at 1e-9 relative.
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        # A difference of means that is zero comes out as +-1e-17 or so, depending on the
        # order each engine adds in; relative digits mean nothing there.
        return 0.0 if abs(value) < 1e-12 else float(f"{value:.9g}")
    return value


def _real_school_rows(small_trust: Path, folder: Path) -> Path:
    """Ranked needs with their own dates and attendance summaries for a few of the trust's
    pupils: what schools' own exports bring and the synthetic trust does not, so that
    Spark builds them (and the SEN history they change) too."""
    with (small_trust / "sen_status.csv").open(newline="") as handle:
        statuses = [r for r in csv.DictReader(handle) if r["sen_provision"] == "K"][:6]
    folder.mkdir()
    with (folder / "sen_needs.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["school_urn", "upn", "need_type", "need_rank", "start_date", "end_date"])
        for i, s in enumerate(statuses):
            start = date.fromisoformat(s["start_date"])
            end = (start + timedelta(days=40)).isoformat() if i % 2 else ""
            writer.writerow(
                [s["school_urn"], s["upn"], s["primary_need"], "1", s["start_date"], ""]
            )
            writer.writerow([s["school_urn"], s["upn"], "HI", "2", s["start_date"], end])
    # A plan kept in the app (issue 13): versioned, with catalogue strategies per outcome,
    # so the plan columns and marts.strategy_plan_outcome are compared too.
    with (small_trust / "strategies.csv").open(newline="") as handle:
        codes = [r["strategy_code"] for r in csv.DictReader(handle)][:2]
    with (folder / "plans.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["plan_id", "school_urn", "upn", "plan_type", "start_date",
                         "plan_version", "status", "strengths"])  # fmt: skip
        for i, s in enumerate(statuses[:2]):
            writer.writerow([f"APP-{i}", s["school_urn"], s["upn"], "sen_support_plan",
                             s["start_date"], "1", "draft", "Kind; loves drawing."])  # fmt: skip
    with (folder / "plan_outcomes.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["outcome_id", "plan_id", "area_of_need", "outcome_text",
                         "strategy_codes", "plan_version"])  # fmt: skip
        for i in range(2):
            writer.writerow([f"APP-{i}-O1", f"APP-{i}", "Cognition and learning",
                             "Will read ten more words.", ";".join(codes), "1"])  # fmt: skip
    with (folder / "attendance_summary.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["school_urn", "upn", "period_start", "period_end", "possible", "present",
             "approved_activity", "authorised", "unauthorised", "late", "from_school_urn",
             "from_school_laestab"]
        )  # fmt: skip
        for i, s in enumerate(statuses):
            writer.writerow(
                [s["school_urn"], s["upn"], "2024-09-04", "2025-07-18", 380, 350 - i, 2, 20,
                 8 + i, i, "", ""]
            )  # fmt: skip
            # A year with no marks: a term, then the year to date that replaces it, a
            # later period of its own, and an earlier school's year (never counted).
            writer.writerow(
                [s["school_urn"], s["upn"], "2019-09-04", "2019-12-20", 140, 120, 0, 10,
                 10 - i, 0, "", ""]
            )  # fmt: skip
            writer.writerow(
                [s["school_urn"], s["upn"], "", "2020-03-20", 260, 230 - 3 * i, 0, 20,
                 10 + 3 * i, 1, "", ""]
            )  # fmt: skip
            writer.writerow(
                [s["school_urn"], s["upn"], "2020-04-20", "2020-06-19", 80, 60 + i, 2, 10,
                 8 - i, 0, "", ""]
            )  # fmt: skip
            writer.writerow(
                [s["school_urn"], s["upn"], "2018-09-05", "2019-07-19", 380, 300, 0, 60,
                 20, 0, "100999", "8783502"]
            )  # fmt: skip
    return folder


def _ambiguous_rows(small_trust: Path, folder: Path) -> Path:
    """A classmate renamed to share a pupil's name, and check-ins naming that name and
    class: quarantined as matching 2 pupils until a member of staff chooses the pupil."""
    with (small_trust / "pupils.csv").open(newline="") as handle:
        pupils = list(csv.DictReader(handle))
    with (small_trust / "characteristics.csv").open(newline="") as handle:
        group = {r["upn"]: r["reg_group"] for r in csv.DictReader(handle)}
    a = next(p for p in pupils if not p["leaving_date"])
    twin = next(
        p
        for p in pupils
        if p["upn"] != a["upn"]
        and p["school_urn"] == a["school_urn"]
        and group[p["upn"]] == group[a["upn"]]
        and not p["leaving_date"]
    )
    # A day both are on roll, whichever is chosen.
    day = max(date.fromisoformat(a["entry_date"]), date.fromisoformat(twin["entry_date"]))
    folder.mkdir()
    with (folder / "pupils.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(twin))
        writer.writeheader()
        writer.writerow(twin | {"forename": a["forename"], "surname": a["surname"]})
    with (folder / "observations.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["observation_id", "school_urn", "observed_on", "mood", "pupil_name", "pupil_group"]
        )
        for i in range(3):
            writer.writerow(
                [f"AMB{i}", a["school_urn"], (day + timedelta(days=7 + i)).isoformat(), 2 + i,
                 f"{a['forename']} {a['surname']}", group[a["upn"]]]
            )  # fmt: skip
    return folder


def _choose_for_the_ambiguous_rows(con: duckdb.DuckDBPyConnection) -> None:
    """The pupil chosen on the import page for the rows above (empowered.pupil_matches)."""
    from empowered.pupil_matches import Choice, choose
    from identity_keys import TEST_KEYS

    [(ref_key, school)] = con.execute(
        "SELECT ref_key, school_urn FROM staging.stg_canonical_pupil_refs "
        "WHERE can_choose AND problem_reason LIKE 'matches 2 pupils%'"
    ).fetchall()
    [(pupil,)] = con.execute(
        "SELECT max(pupil_key) FROM staging.stg_canonical_pupil_roll AS r "
        "WHERE school_urn = ? AND name_bidx = split_part(?, '|', 4)",
        [school, ref_key],
    ).fetchall()
    assert choose(con, Choice(school, ref_key, pupil, "app-user-1"), keys=TEST_KEYS).build.ok
    assert con.execute(
        "SELECT count(*) FROM staging.stg_canonical_observations "
        "WHERE _pupil_match_method = 'chosen' AND _reject_reason IS NULL"
    ).fetchone() == (3,)


@dataclass
class Built:
    duck: duckdb.DuckDBPyConnection  # built by DuckDB
    served: duckdb.DuckDBPyConnection  # a copy served from the lake
    served_path: Path
    duck_path: Path
    lake: Lake
    spark: Any
    result: BuildResult
    workdir: Path


@pytest.fixture(scope="module")
def built(
    app_records_warehouse: Path, small_trust: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """The small trust with the app's own records (tests/conftest.py, so every app-only
    table has rows and is compared on both engines too), schools' own ranked needs, plans
    and attendance summaries, and an ambiguous pupil chosen; built on DuckDB, and on
    Spark into a lake that a copy of the warehouse is served from."""
    from empowered.sources.importer import import_canonical_folder
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse
    from empowered.warehouse.lake_attach import attach
    from empowered.warehouse.lake_publish import publish
    from empowered.warehouse.spark import build_spark, spark_session
    from identity_keys import TEST_KEYS

    workdir = tmp_path_factory.mktemp("spark")
    duck_path = workdir / "warehouse.duckdb"
    shutil.copy(app_records_warehouse, duck_path)
    con = open_warehouse(duck_path)
    import_canonical_folder(con, _real_school_rows(small_trust, workdir / "real"), keys=TEST_KEYS)
    import_canonical_folder(
        con, _ambiguous_rows(small_trust, workdir / "ambiguous"), keys=TEST_KEYS
    )
    assert build_duckdb(con).ok
    _choose_for_the_ambiguous_rows(con)
    lake = Lake(workdir / "lake")
    publish(con, lake)
    spark = spark_session("local[2]", workdir)
    result = build_spark(spark, lake)
    con.execute("CHECKPOINT")
    served_path = workdir / "served.duckdb"
    shutil.copy(duck_path, served_path)
    served = open_warehouse(served_path)
    attach(served, lake)
    yield Built(con, served, served_path, duck_path, lake, spark, result, workdir)
    spark.stop()
    served.close()
    con.close()


def model_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    from empowered.warehouse.models import discover_models

    return sorted(discover_models())


def assert_same_tables(duck: duckdb.DuckDBPyConnection, served: duckdb.DuckDBPyConnection) -> int:
    """Every model's table reads the same from both: columns, types, and rows."""
    compared = 0
    for table in model_tables(duck):
        assert (
            served.execute(f"DESCRIBE {table}").fetchall()
            == duck.execute(f"DESCRIBE {table}").fetchall()
        ), table
        rows = [
            Counter(
                tuple(normalise(v) for v in row)
                for row in c.execute(f"SELECT * FROM {table}").fetchall()
            )
            for c in (duck, served)
        ]
        assert rows[1] == rows[0], f"{table} differs between the lake Spark built and DuckDB"
        compared += sum(rows[0].values()) > 0
    return compared


def test_every_model_builds_on_spark_into_the_lake(built: Built) -> None:
    problems = [
        f"{r.model.name}: {r.status} {r.message}" for r in built.result.results if r.status != "ok"
    ]
    assert problems == []
    assert built.result.engine == "spark"
    snapshot = built.lake.current()
    assert snapshot.version == 2  # the sources published, then the build
    [(build, record)] = snapshot.builds
    assert built.lake.path(record).exists()
    # Split by school (and academic year where a table has one), as the lake promises.
    split = {n: e.partitioned_by for n, e in snapshot.tables.items() if e.partitioned_by}
    assert split["core.fct_observation"] == ("_school", "_year")
    assert split["core.dim_pupil"] == ("_school",)


def test_every_table_of_the_lake_equals_duckdb_row_for_row(built: Built) -> None:
    non_empty = assert_same_tables(built.duck, built.served)
    assert non_empty > 60  # an empty table on both sides would prove nothing


def test_the_runs_and_checks_spark_recorded_are_in_the_served_warehouse(built: Built) -> None:
    [(engine, runs, failed)] = built.served.execute(
        "SELECT any_value(engine), count(*), count(*) FILTER (status <> 'ok') "
        "FROM meta.model_runs WHERE run_id = (SELECT max(run_id) FROM meta.lake_builds)"
    ).fetchall()
    assert (engine, runs, failed) == ("spark", len(built.result.results), 0)
    [(checks,)] = built.served.execute(
        "SELECT count(*) FROM meta.check_results "
        "WHERE run_id = (SELECT max(run_id) FROM meta.lake_builds)"
    ).fetchall()
    assert checks == sum(len(r.checks) for r in built.result.results) > 100


def _users(path: Path) -> None:
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user, find_user

    con = duckdb.connect(str(path))
    ensure_access_tables(con)
    [(school,)] = con.execute("SELECT min(school_urn) FROM core.dim_school").fetchall()
    for role, extra in (("trust_admin", {}), ("senco", {"school_urn": school})):
        if find_user(con, f"lake-{role}") is None:
            add_user(con, f"lake-{role}", PASSWORD, role, **extra)  # type: ignore[arg-type]
    con.close()


def test_pages_served_from_the_lake_read_as_from_duckdb(built: Built) -> None:
    """The same pages, the same policy: a SENCo and a trust administrator open every page
    they can from the home page, on the DuckDB-built warehouse and on the lake-served one."""
    from argon2 import PasswordHasher
    from staff_pages import crawl
    from web_fixtures import signed_in

    from empowered.access import passwords, users
    from empowered.web.app import create_app

    built.duck.execute("CHECKPOINT")
    pages = {}
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    saved = (passwords._HASHER, users._DUMMY_HASH)
    passwords._HASHER, users._DUMMY_HASH = fast, fast.hash("dummy")  # type: ignore[attr-defined]
    try:
        for name, source in (("duckdb", built.duck_path), ("lake", built.served_path)):
            path = built.workdir / f"pages-{name}.duckdb"
            shutil.copy(source, path)
            _users(path)
            app = create_app(path)
            try:
                pages[name] = {
                    role: dict(crawl(signed_in(app, f"lake-{role}"), per_shape=2, limit=60))
                    for role in ("trust_admin", "senco")
                }
            finally:
                app.state.warehouse.close()
    finally:
        passwords._HASHER, users._DUMMY_HASH = saved  # type: ignore[attr-defined]
    for role in ("trust_admin", "senco"):
        duck, lake = pages["duckdb"][role], pages["lake"][role]
        assert len(duck) > 15, role
        assert sorted(lake) == sorted(duck), role
        # The audit log lists the visits this test just made, at the moments it made them,
        # and the admin page each account's last sign-in: the second crawl signed in a
        # minute later when the two straddled the turn of a minute.
        differing = [
            p
            for p in duck
            if _clock.sub("(time)", lake[p]) != _clock.sub("(time)", duck[p])
            and not p.startswith("/audit")
        ]
        assert differing == [], (role, differing[:3])


_clock = re.compile(r"\b\d{1,2}:\d{2} UTC\b")


def _plain(value: Any) -> Any:
    """A view service's result as plain values, numbers as ``normalise`` compares them."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # a numpy array or number (the charts' series)
        return _plain(value.tolist())
    return normalise(value)


def test_view_services_read_the_same_from_the_lake(built: Built) -> None:
    """What the pages are made of: the register (a school's, named) and the whole picture
    of each pupil on its SEN register, from each warehouse with a cache of its own."""
    from empowered.views import PupilScope
    from empowered.views.cache import SchoolAnalyticsCache
    from empowered.views.pupil import pupil_picture
    from empowered.views.register import RegisterFilters, register_page

    [(school,)] = built.duck.execute("SELECT min(school_urn) FROM core.dim_school").fetchall()
    scope = PupilScope.school(school)
    pupils = [
        key
        for (key,) in built.duck.execute(
            "SELECT DISTINCT pupil_key FROM marts.register_pupil WHERE school_urn = ? "
            "AND sen_provision IN ('K', 'E') ORDER BY pupil_key LIMIT 8",
            [school],
        ).fetchall()
    ]
    assert len(pupils) == 8
    results = []
    for con in (built.duck, built.served):
        cache = SchoolAnalyticsCache()
        results.append(
            _plain(
                [register_page(con, scope=scope, filters=RegisterFilters(), cache=cache)]
                + [pupil_picture(con, key, scope=scope, cache=cache) for key in pupils]
            )
        )
    assert results[1] == results[0]


def test_a_day_of_check_ins_rebuilds_only_what_reads_them(built: Built, small_trust: Path) -> None:
    """A school day's check-ins at one school land in the DuckDB-built warehouse, which
    publishes them to the lake; Spark rebuilds what reads them as DuckDB's incremental
    build does: the new batch typed and validated alone, then only the pupils (and days)
    it touched. A table rebuilt in part keeps every file its change did not reach (the
    other schools'); a table that came out the same keeps all of them; and the lake again
    equals DuckDB's build row for row. (The served copy does not import them: its own
    landing log is not compared after this.)"""
    from empowered.sources.importer import import_canonical_folder
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.lake_attach import attach
    from empowered.warehouse.lake_publish import publish
    from empowered.warehouse.models import discover_models
    from empowered.warehouse.spark import build_spark
    from identity_keys import TEST_KEYS

    table = "raw.canonical_observations"
    folder = _next_day_of_check_ins(small_trust, built.workdir / "day")
    import_canonical_folder(built.duck, folder, keys=TEST_KEYS)
    assert build_duckdb(built.duck, touched={table}).ok
    before = built.lake.current()
    publish(built.duck, built.lake, tables={table})
    result = build_spark(built.spark, built.lake)
    assert result.ok, [r.message for r in result.failures()]
    models = discover_models()
    reached = _downstream(models, {table, "meta.batches", "meta.raw_snapshot"})
    how = {r.model.name: r.message for r in result.results}
    assert how["staging.stg_canonical_observations"] == "incremental: 1 batch"
    assert how["core.fct_observation"] == "incremental: 1 observed_on"
    assert any(m.endswith(" pupil_keys") for m in how.values()), how
    partial = {name for name, message in how.items() if message.startswith("incremental: ")}
    assert len(partial) >= 10, how
    assert set(how) <= reached
    assert len(how) < len(reached) < len(models)
    after = built.lake.current()
    for name in set(models) - set(how):
        kept = (after.tables[name].files, after.tables[name].token)
        assert kept == (before.tables[name].files, before.tables[name].token), name
    kept_elsewhere = 0
    for name in partial:
        old, new = set(before.tables[name].files), set(after.tables[name].files)
        # Only the folders of the school whose check-ins came are written again (a table
        # split by school names it by URN or by its key); the others' files are kept.
        written = {_school_folder(f) for f in new - old} - {None}
        assert len(written) <= 1, (name, written)
        kept_elsewhere += any(_school_folder(f) not in (None, *written) for f in new & old)
    assert kept_elsewhere >= 5
    attach(built.served, built.lake)
    assert assert_same_tables(built.duck, built.served) > 60
    # Built again with nothing new: no model runs, and every table keeps its files.
    again = build_spark(built.spark, built.lake)
    assert again.ok and again.results == []
    assert {n: e.files for n, e in built.lake.current().tables.items()} == {
        n: e.files for n, e in after.tables.items()
    }


def _school_folder(file: str) -> str | None:
    return next((part for part in file.split("/") if part.startswith("_school=")), None)


def _downstream(models: dict[str, Any], tables: set[str]) -> set[str]:
    reached: set[str] = set()
    changed = set(tables)
    grew = True
    while grew:
        grew = False
        for name, model in models.items():
            if name not in reached and (model.sources | model.depends_on) & changed:
                reached.add(name)
                changed.add(name)
                grew = True
    return reached


def _next_day_of_check_ins(small_trust: Path, folder: Path) -> Path:
    """One school's check-ins of the trust's last day again, on the next day, under new
    ids."""
    with (small_trust / "observations.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    last = max(r["observed_on"] for r in rows)
    day = (date.fromisoformat(last[:10]) + timedelta(days=1)).isoformat()
    school = next(r["school_urn"] for r in rows if r["observed_on"] == last)
    folder.mkdir()
    with (folder / "observations.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        chosen = (r for r in rows if r["observed_on"] == last and r["school_urn"] == school)
        for i, row in enumerate(chosen):
            writer.writerow(row | {"observation_id": f"NEXT{i:05d}", "observed_on": day})
    return folder


def test_a_spark_build_stopped_part_way_leaves_the_lake_as_it_was(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empowered.warehouse.lake_attach import attach
    from empowered.warehouse.spark import LakeSparkEngine, build_spark

    before = built.lake.current()
    real = LakeSparkEngine.materialise
    done: list[str] = []

    def killed_after_a_few(self: LakeSparkEngine, model: Any) -> int:
        if len(done) == 5:
            raise KeyboardInterrupt  # what a killed driver looks like from here
        done.append(model.name)
        return real(self, model)

    monkeypatch.setattr(LakeSparkEngine, "materialise", killed_after_a_few)
    with pytest.raises(KeyboardInterrupt):
        build_spark(built.spark, built.lake, full=True)
    assert built.lake.current() == before  # nothing committed
    written = list((built.lake.root / "staging").rglob("*.parquet"))
    assert built.lake.vacuum(grace=0) > 0  # the stopped build's files, and older builds'
    assert len(list((built.lake.root / "staging").rglob("*.parquet"))) < len(written)
    attach(built.served, built.lake)
    assert assert_same_tables(built.duck, built.served) > 60  # still whole, still readable


def test_a_spark_build_killed_outright_leaves_the_lake_as_it_was(built: Built) -> None:
    """A driver killed outright (SIGKILL, as when a node is lost or the kernel's
    out-of-memory killer picks it) part-way through a build from the command line: the
    lake's snapshot is the one before, and every file it names is still there."""
    before = built.lake.current()
    named = [f for entry in before.tables.values() for f in entry.files]
    command = [sys.executable, "-c", "from empowered.cli import app; app()", "build"]
    command += ["--engine", "spark", "--lake", str(built.lake.root), "--full"]
    started = time.time()
    # A session of its own: the driver's JVM is killed with it.
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    written: list[Path] = []
    try:
        deadline = time.monotonic() + 300
        while len(written) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
            written = [
                p
                for p in (built.lake.root / "staging").rglob("*.parquet")
                if p.stat().st_mtime >= started
            ]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert len(written) >= 3, "the build was to be killed after writing some tables"
    assert built.lake.current() == before
    assert all(built.lake.path(f).exists() for f in named)
