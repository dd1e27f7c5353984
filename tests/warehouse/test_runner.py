from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from empowered.warehouse.changes import WHOLE, Change
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import discover_models
from empowered.warehouse.runner import run_models


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = open_warehouse(":memory:")
    con.execute("CREATE TABLE raw.pupils (pupil_key VARCHAR, school VARCHAR)")
    con.execute("CREATE TABLE raw.schools (school VARCHAR)")
    con.execute("INSERT INTO raw.schools VALUES ('S1')")
    con.execute("INSERT INTO raw.pupils VALUES ('P1', 'S1'), ('P2', 'S1')")
    return con


def models_root(tmp_path: Path) -> Path:
    (tmp_path / "core").mkdir()
    (tmp_path / "marts").mkdir()
    (tmp_path / "core" / "dim_school.sql").write_text(
        "-- grain: one row per school\n-- unique_key: [school]\nselect school from raw.schools"
    )
    (tmp_path / "core" / "dim_pupil.sql").write_text(
        "-- grain: one row per pupil\n"
        "-- unique_key: [pupil_key]\n"
        "-- not_null: [pupil_key]\n"
        "-- relationships:\n"
        "--   school: core.dim_school.school\n"
        "-- checks:\n"
        "--   - name: not_test_pupils\n"
        "--     severity: warn\n"
        "--     sql: select * from core.dim_pupil where pupil_key like 'T%'\n"
        "select pupil_key, school from raw.pupils"
    )
    (tmp_path / "marts" / "pupil_count.sql").write_text(
        "-- grain: one row per school\n-- unique_key: [school]\n"
        "select school, count(*) as pupils from core.dim_pupil group by school"
    )
    return tmp_path


def test_clean_build_runs_everything_and_records_it(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    result = run_models(DuckDBEngine(con), discover_models(models_root(tmp_path)), con)
    assert result.ok
    assert [r.model.name for r in result.results] == [
        "core.dim_school",
        "core.dim_pupil",
        "marts.pupil_count",
    ]
    assert con.execute("SELECT pupils FROM marts.pupil_count").fetchall() == [(2,)]
    runs = con.execute(
        "SELECT model, status, row_count FROM meta.model_runs WHERE run_id = ? ORDER BY model",
        [result.run_id],
    ).fetchall()
    assert runs == [
        ("core.dim_pupil", "ok", 2),
        ("core.dim_school", "ok", 1),
        ("marts.pupil_count", "ok", 1),
    ]
    checks = con.execute(
        "SELECT model, check_name FROM meta.check_results WHERE run_id = ? AND status = 'pass' "
        "ORDER BY ALL",
        [result.run_id],
    ).fetchall()
    # marts.pupil_count groups by its key, so its unique check is not run
    # (empowered.warehouse.uniqueness); every other check is run and recorded.
    assert checks == [
        ("core.dim_pupil", "not_null(pupil_key)"),
        ("core.dim_pupil", "not_test_pupils"),
        ("core.dim_pupil", "relationship(school -> core.dim_school.school)"),
        ("core.dim_pupil", "unique(pupil_key)"),
        ("core.dim_school", "unique(school)"),
    ]


def test_duplicate_key_fails_the_model_names_the_check_and_skips_downstream(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("INSERT INTO raw.pupils VALUES ('P1', 'S1')")
    result = run_models(DuckDBEngine(con), discover_models(models_root(tmp_path)), con)
    assert not result.ok
    by_name = {r.model.name: r for r in result.results}
    failed = by_name["core.dim_pupil"]
    assert failed.status == "failed"
    assert "core.dim_pupil: check unique(pupil_key) found 1 offending row(s)" in failed.message
    assert '"pupil_key": "P1"' in failed.message and '"n": 2' in failed.message
    assert by_name["marts.pupil_count"].status == "skipped"
    assert "upstream failed: core.dim_pupil" in by_name["marts.pupil_count"].message


def test_dangling_key_fails_the_relationship_check(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("INSERT INTO raw.pupils VALUES ('P3', 'NOWHERE')")
    result = run_models(DuckDBEngine(con), discover_models(models_root(tmp_path)), con)
    failed = result.failures()[0]
    assert failed.model.name == "core.dim_pupil"
    assert "relationship(school -> core.dim_school.school)" in failed.message
    assert "NOWHERE" in failed.message


def test_warning_checks_are_reported_but_do_not_fail(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("INSERT INTO raw.pupils VALUES ('T9', 'S1')")
    result = run_models(DuckDBEngine(con), discover_models(models_root(tmp_path)), con)
    assert result.ok
    warned = [c for r in result.results for c in r.checks if not c.passed]
    assert [(c.check.name, c.failing_rows) for c in warned] == [("not_test_pupils", 1)]


def test_sql_error_is_reported_per_model(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    root = models_root(tmp_path)
    (root / "marts" / "pupil_count.sql").write_text(
        "-- grain: x\nselect no_such_column from core.dim_pupil"
    )
    result = run_models(DuckDBEngine(con), discover_models(root), con)
    failed = result.failures()
    assert [(r.model.name, r.status) for r in failed] == [("marts.pupil_count", "error")]
    assert "no_such_column" in failed[0].message


def test_selection_runs_only_what_is_asked(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    models = discover_models(models_root(tmp_path))
    run_models(DuckDBEngine(con), models, con)
    con.execute("INSERT INTO raw.pupils VALUES ('P4', 'S1')")
    result = run_models(
        DuckDBEngine(con), models, con, select={"core.dim_pupil", "marts.pupil_count"}
    )
    assert [r.model.name for r in result.results] == ["core.dim_pupil", "marts.pupil_count"]
    assert con.execute("SELECT pupils FROM marts.pupil_count").fetchall() == [(3,)]


def test_check_samples_never_show_pupil_identity(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con.execute("CREATE TABLE raw.ids (pupil_key VARCHAR, upn VARCHAR, surname VARCHAR)")
    con.execute(
        "INSERT INTO raw.ids VALUES ('P1', 'A123456789012', 'Example'),"
        " ('P1', 'A123456789012', 'Example')"
    )
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "ids.sql").write_text(
        "-- grain: one row per pupil\n"
        "-- checks:\n"
        "--   - name: no_repeats\n"
        "--     sql: select * from core.ids where pupil_key = 'P1'\n"
        "select * from raw.ids"
    )
    result = run_models(DuckDBEngine(con), discover_models(tmp_path), con)
    message = result.failures()[0].message
    assert "no_repeats found 2 offending row(s)" in message
    assert "A123456789012" not in message and "Example" not in message
    assert '"upn": "(withheld)"' in message and '"pupil_key": "P1"' in message
    stored = con.execute("SELECT sample FROM meta.check_results WHERE status = 'fail'").fetchone()
    assert stored is not None and "A123456789012" not in stored[0]


def test_only_what_changed_is_rebuilt_and_unchanged_results_stop_there(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    root = models_root(tmp_path)
    (root / "core" / "pupil_notes.sql").write_text(
        "-- grain: one row per note\n"
        "select n.pupil_key, n.note from raw.notes as n "
        "join core.dim_pupil as p on p.pupil_key = n.pupil_key"
    )
    con.execute("CREATE TABLE raw.notes (pupil_key VARCHAR, note VARCHAR)")
    models = discover_models(root)
    run_models(DuckDBEngine(con), models, con)

    con.execute("INSERT INTO raw.notes VALUES ('P1', 'settled well')")
    result = run_models(DuckDBEngine(con), models, con, changes={"raw.notes": WHOLE})
    assert [r.model.name for r in result.results] == ["core.pupil_notes"]

    # Rebuilding dim_pupil from unchanged rows gives the same table: nothing below reruns.
    result = run_models(DuckDBEngine(con), models, con, changes={"raw.pupils": WHOLE})
    assert [r.model.name for r in result.results] == ["core.dim_pupil"]

    con.execute("INSERT INTO raw.pupils VALUES ('P5', 'S1')")
    result = run_models(DuckDBEngine(con), models, con, changes={"raw.pupils": WHOLE})
    assert [r.model.name for r in result.results] == [
        "core.dim_pupil",
        "core.pupil_notes",
        "marts.pupil_count",
    ]
    assert con.execute("SELECT pupils FROM marts.pupil_count").fetchall() == [(3,)]


def test_a_partial_rebuild_checks_the_partitions_it_rebuilt(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A custom check grouped by the partition column looks at the rebuilt pupils: it
    catches a bad total there; a warning (its count is recorded) reads the whole table."""
    (tmp_path / "marts").mkdir()
    (tmp_path / "marts" / "pupil_marks.sql").write_text(
        "-- grain: one row per pupil\n-- unique_key: [pupil_key]\n"
        "-- incremental:\n--   by: pupil_key\n"
        "-- checks:\n"
        "--   - name: at_most_ten\n"
        "--     sql: select pupil_key from marts.pupil_marks group by pupil_key"
        " having max(total) > 10\n"
        "--   - name: school_at_most_fifty\n"
        "--     severity: warn\n"
        "--     sql: select school from marts.pupil_marks group by school"
        " having sum(total) > 50\n"
        "select pupil_key, school, sum(mark) as total from raw.marks group by all"
    )
    con.execute("CREATE TABLE raw.marks (pupil_key VARCHAR, school VARCHAR, mark INTEGER)")
    con.execute("INSERT INTO raw.marks VALUES ('P1', 'S1', 3), ('P2', 'S1', 4)")
    models = discover_models(tmp_path)
    assert run_models(DuckDBEngine(con), models, con).ok

    # A bad row left in a partition the next build does not touch is not looked at again...
    con.execute("UPDATE marts.pupil_marks SET total = 99 WHERE pupil_key = 'P1'")
    con.execute("INSERT INTO raw.marks VALUES ('P2', 'S1', 2)")
    change = Change(keys={"pupil_key": frozenset({"P2"})})
    result = run_models(DuckDBEngine(con), models, con, changes={"raw.marks": change})
    [run] = result.results
    assert run.message.startswith("incremental")
    by_name = {c.check.name: c.failing_rows for c in run.checks}
    assert by_name == {"unique(pupil_key)": 0, "at_most_ten": 0, "school_at_most_fifty": 1}

    # ...while one in a rebuilt partition is caught.
    con.execute("UPDATE marts.pupil_marks SET total = 1 WHERE pupil_key = 'P1'")
    con.execute("INSERT INTO raw.marks VALUES ('P2', 'S1', 20)")
    result = run_models(DuckDBEngine(con), models, con, changes={"raw.marks": change})
    [run] = result.results
    assert run.status == "failed" and "at_most_ten" in run.message
