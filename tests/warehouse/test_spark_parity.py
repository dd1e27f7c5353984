"""The same models on local PySpark give the same core and mart tables as DuckDB, row for row."""

from __future__ import annotations

import csv
import math
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

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


@pytest.fixture(scope="module")
def spark_built(
    app_records_warehouse: Path, small_trust: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Any, Any]]:
    """The small trust with the app's own records (tests/conftest.py, so every app-only
    table has rows and is compared on both engines too), schools' own ranked needs, plans
    and attendance summaries, and an ambiguous pupil chosen; built on DuckDB and Spark."""
    from empowered.sources.importer import import_canonical_folder
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse
    from empowered.warehouse.spark import build_spark, spark_session
    from identity_keys import TEST_KEYS

    workdir = tmp_path_factory.mktemp("spark")
    copy = workdir / "warehouse.duckdb"
    shutil.copy(app_records_warehouse, copy)
    con = open_warehouse(copy)
    import_canonical_folder(con, _real_school_rows(small_trust, workdir / "real"), keys=TEST_KEYS)
    import_canonical_folder(
        con, _ambiguous_rows(small_trust, workdir / "ambiguous"), keys=TEST_KEYS
    )
    assert build_duckdb(con).ok
    _choose_for_the_ambiguous_rows(con)
    spark = spark_session("local[2]", workdir)
    result = build_spark(con, spark, workdir)
    yield con, spark, result
    spark.stop()
    con.close()


def test_every_model_builds_on_spark(spark_built: tuple[Any, Any, Any]) -> None:
    _, _, result = spark_built
    problems = [
        f"{r.model.name}: {r.status} {r.message}" for r in result.results if r.status != "ok"
    ]
    assert problems == []
    assert result.engine == "spark"


def test_core_and_marts_equal_duckdb_row_for_row(spark_built: tuple[Any, Any, Any]) -> None:
    con, spark, _ = spark_built
    tables = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE schema_name IN ('core', 'marts') UNION ALL "
        "SELECT schema_name || '.' || view_name FROM duckdb_views() "
        "WHERE schema_name IN ('core', 'marts') ORDER BY 1"
    ).fetchall()
    assert len(tables) > 25
    for (table,) in tables:
        cursor = con.execute(f"SELECT * FROM {table}")
        duck_columns = [d[0] for d in cursor.description or []]
        duck_rows = Counter(tuple(normalise(v) for v in row) for row in cursor.fetchall())
        frame = spark.table(table)
        assert frame.columns == duck_columns, table
        spark_rows = Counter(tuple(normalise(v) for v in row) for row in frame.collect())
        assert sum(duck_rows.values()) > 0, f"{table} is empty: the comparison would prove nothing"
        assert spark_rows == duck_rows, f"{table} differs between Spark and DuckDB"
