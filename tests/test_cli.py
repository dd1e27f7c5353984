"""The command line, driven as a user would drive it."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from empowered.cli import app
from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

runner = CliRunner()


@pytest.mark.slow
def test_demo_imports_builds_and_reports(tmp_path: Path) -> None:
    warehouse = tmp_path / "demo.duckdb"
    # Pinned to a day in an autumn term, so the test does not depend on today's date.
    result = runner.invoke(
        app, ["demo", "--no-serve", "--warehouse", str(warehouse), "--through", "2026-11-11"]
    )
    assert result.exit_code == 0, result.output
    assert "build ok" in result.output
    assert "observations.csv" in result.output and "core.fct_observation" in result.output
    con = duckdb.connect(str(warehouse), read_only=True)
    # 1,500 on roll in September 2025, then a year's leavers and a new intake.
    pupils = con.execute("SELECT count(*) FROM core.dim_pupil").fetchone()
    assert pupils is not None and 1500 <= pupils[0] <= 2000
    # The school year in progress: every school's registers run up to the day.
    as_of = con.execute(
        "SELECT min(as_of_date), max(as_of_date), min(as_of_academic_year) FROM marts.school_as_of"
    ).fetchone()
    assert as_of is not None and as_of[2] == "2026/27"
    assert date(2026, 11, 5) <= as_of[0] <= as_of[1] <= date(2026, 11, 11)
    # The living SEN record: what staff enter in the app, landed through the app's own
    # services as sources of their own, and every row of it accepted by staging.
    app_sources = {
        s
        for (s,) in con.execute(
            "SELECT DISTINCT source FROM meta.batches WHERE source LIKE 'app-%'"
        ).fetchall()
    }
    assert {"app-plan", "app-review", "app-action", "app-concern", "app-contribution"} <= (
        app_sources
    ) and any(s.startswith("app-provision") for s in app_sources)
    rejected = con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows JOIN meta.batches USING (batch_id) "
        "WHERE source LIKE 'app-%'"
    ).fetchone()
    assert rejected == (0,)
    # The console output never carries pupil identity.
    stored = [u for (u,) in con.execute("SELECT upn FROM core.pupil_identity").fetchall()]
    upns = [IdentityReader(TEST_KEYS).upn(u) for u in stored]  # stored encrypted
    assert upns and not any(upn and upn in result.output for upn in upns)


def test_demo_never_replaces_a_warehouse_it_did_not_make(tmp_path: Path) -> None:
    from empowered.demo import is_demo_warehouse, mark_as_demo

    real = tmp_path / "school.duckdb"
    con = duckdb.connect(str(real))
    con.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    con.close()
    result = runner.invoke(app, ["demo", "--no-serve", "--warehouse", str(real)])
    assert result.exit_code == 2
    assert "not a demo warehouse" in result.output
    assert not is_demo_warehouse(real)
    con = duckdb.connect(str(real))
    assert con.execute("SELECT answer FROM kept").fetchone() == (42,)
    mark_as_demo(con)  # what the demo does to its own warehouse: the next demo may replace it
    con.close()
    assert is_demo_warehouse(real)


def test_synth_then_import_then_build(tmp_path: Path) -> None:
    data = tmp_path / "trust"
    warehouse = tmp_path / "w.duckdb"
    made = runner.invoke(
        app, ["synth", "--out", str(data), "--schools", "2", "--pupils", "200", "--seed", "3"]
    )
    assert made.exit_code == 0, made.output
    imported = runner.invoke(app, ["import", str(data), "--warehouse", str(warehouse)])
    assert imported.exit_code == 0, imported.output
    assert "build ok" in imported.output
    again = runner.invoke(app, ["import", str(data), "--warehouse", str(warehouse)])
    assert again.exit_code == 0, again.output
    assert "Already imported, nothing changed" in again.output
    assert "Nothing new to import." in again.output
    assert "build ok" not in again.output  # nothing new, so nothing rebuilt
    built = runner.invoke(app, ["build", "--warehouse", str(warehouse)])
    assert built.exit_code == 0, built.output
    assert "core.fct_attendance_session" in built.output


def test_an_empty_warehouse_builds_cleanly(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["build", "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    assert "build ok" in result.output


def test_a_warehouse_held_by_another_process_is_explained(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(60)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = runner.invoke(app, ["build", "--warehouse", str(warehouse)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert "Cannot open the warehouse" in result.output
    assert "holds the file" in result.output


def test_a_bad_mapping_file_is_explained_and_nothing_changes(tmp_path: Path) -> None:
    mapping = tmp_path / "my-layout.yml"
    mapping.write_text(
        "name: my-layout\nschool_urn: ask\nentities:\n  pupils:\n    shoe_size: Shoes\n"
    )
    data = tmp_path / "export.csv"
    data.write_text("Shoes\n5\n")
    result = runner.invoke(
        app,
        ["import", str(data), "--source", str(mapping), "--warehouse", str(tmp_path / "w.duckdb")],
    )
    assert result.exit_code == 1
    assert "Import refused, nothing was changed" in result.output
    assert "my-layout.yml" in result.output and "shoe_size" in result.output


def test_show_sql_prints_the_expanded_sql_a_model_runs() -> None:
    result = runner.invoke(app, ["show-sql", "stg_canonical_closures"])
    assert result.exit_code == 0, result.output
    assert "FROM raw.canonical_closures AS r" in result.output
    assert "parse_uk_date" not in result.output  # expanded into portable SQL
    assert "is not a school EmpowerED+ has: set it up first (empowered school add)" in result.output
    spark = runner.invoke(app, ["show-sql", "staging.stg_canonical_closures", "--spark"])
    assert spark.exit_code == 0 and "RLIKE" in spark.output
    missing = runner.invoke(app, ["show-sql", "stg_nothing"])
    assert missing.exit_code == 2 and "No model named stg_nothing" in missing.output


def test_the_lake_commands(warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    [(path,)] = warehouse_copy.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    warehouse_copy.close()
    lake = tmp_path / "lake"
    empty = runner.invoke(app, ["build", "--engine", "spark", "--lake", str(lake)])
    assert empty.exit_code == 2 and "publish the warehouse's first" in empty.output
    wrong = runner.invoke(app, ["build", "--lake", str(lake), "--warehouse", path])
    assert wrong.exit_code == 2 and "--engine spark" in wrong.output
    store = runner.invoke(app, ["build", "--engine", "spark", "--lake", "s3://bucket/lake"])
    assert store.exit_code == 2 and "mount the object store" in store.output
    published = runner.invoke(app, ["lake", "publish", "--lake", str(lake), "--warehouse", path])
    assert published.exit_code == 0, published.output
    assert "Lake snapshot 1" in published.output
    shown = runner.invoke(app, ["lake", "show", "--lake", str(lake)])
    assert shown.exit_code == 0 and "raw.canonical_observations" in shown.output
    assert runner.invoke(app, ["lake", "vacuum", "--lake", str(lake)]).exit_code == 0
    again = runner.invoke(app, ["lake", "publish", "--lake", str(lake), "--warehouse", path])
    assert "Lake snapshot 1" in again.output  # nothing new: nothing committed


def test_serve_over_a_lake_attaches_it_and_keeps_serving_it(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empowered import cli

    [(path,)] = warehouse_copy.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    warehouse_copy.close()
    served: list[str] = []
    monkeypatch.setattr(cli, "_serve", lambda warehouse, **_: served.append(str(warehouse)))
    lake = tmp_path / "lake"
    first = runner.invoke(app, ["serve", "--warehouse", path, "--lake", str(lake)])
    assert first.exit_code == 0, first.output
    assert "no Spark build yet" in first.output and "Serving lake snapshot 1" in first.output
    # Started again without --lake: still the lake's (a warehouse it serves says so).
    second = runner.invoke(app, ["serve", "--warehouse", path])
    assert second.exit_code == 0 and "Serving lake snapshot 1" in second.output
    assert served == [path, path]
    con = duckdb.connect(path, read_only=True)
    [(kind,)] = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'marts'"
    ).fetchall()
    assert kind > 20  # the marts are views over the lake now
