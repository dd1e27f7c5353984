"""Model SQL kept on disk between processes (empowered.warehouse.sql_cache): the same
models with or without it, an edited model never served stale, a bad file ignored."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from empowered.warehouse import incremental, sql_cache
from empowered.warehouse import models as models_module
from empowered.warehouse.incremental import IncrementalWriter
from empowered.warehouse.models import default_models_root, discover_models


def _fresh() -> None:
    # The in-process caches sit in front of the disk: clear them so the disk is asked.
    models_module._written_sql.cache_clear()
    models_module._referenced_tables.cache_clear()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cache"
    monkeypatch.setenv("EMPOWERED_SQL_CACHE", str(folder))
    _fresh()
    yield folder
    _fresh()


def _copy_models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    shutil.copytree(default_models_root(), root)
    return root


def test_models_read_from_the_cache_equal_models_worked_out(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy_models(tmp_path)
    cold = discover_models(root)
    assert any(cache.glob("sql-*.json")) and any(cache.glob("checks-*.json"))
    _fresh()
    warm = discover_models(root)
    monkeypatch.setenv("EMPOWERED_SQL_CACHE", "off")
    _fresh()
    uncached = discover_models(root)
    assert warm == cold == uncached


def test_an_edited_declaration_is_written_out_again(cache: Path, tmp_path: Path) -> None:
    root = _copy_models(tmp_path)
    before = discover_models(root)["staging.stg_canonical_attendance"].sql
    path = root / "staging" / "stg_canonical_attendance.sql"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("values: [AM, PM]", "values: [AM, PM, XX]"), encoding="utf-8")
    _fresh()
    models = discover_models(root)
    assert "'XX'" in models["staging.stg_canonical_attendance"].sql
    assert "'XX'" not in before
    # Quarantine reads the staging declarations: it is written out again too.
    quarantine = models["quarantine.rejected_rows"].sql
    assert "stg_canonical_attendance" in quarantine


def test_a_damaged_file_is_worked_out_again(cache: Path, tmp_path: Path) -> None:
    root = _copy_models(tmp_path)
    expected = discover_models(root)
    for path in cache.glob("*.json"):
        path.write_text("{not json", encoding="utf-8")
    _fresh()
    assert discover_models(root) == expected


def test_a_folder_that_cannot_be_written_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("EMPOWERED_SQL_CACHE", str(blocked / "cache"))
    assert sql_cache.kept("sql", ("x",), lambda: "worked out") == "worked out"


def test_partial_rebuild_sql_written_for_one_warehouse_is_read_by_another(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh warehouse (the first day after a full build, or after an upgrade) used to
    # rewrite every model it partly rebuilt on the sqlglot tree: about a second a day.
    sql = "select o.pupil_key, count(*) as n from core.fct_observation as o group by 1"
    filters = {"core.fct_observation": "pupil_key"}
    written = []
    for _ in range(2):
        con = duckdb.connect()
        con.execute("CREATE SCHEMA meta")
        writer = IncrementalWriter(con, ["pupil_key"])
        written.append(writer.restrict_inputs(sql, filters))
        writer.save()
        con.close()
        # The second warehouse must not work it out again.
        monkeypatch.setattr(incremental, "restrict_inputs", _never)
    assert written[0] == written[1]
    assert "_changed_pupil_key" in written[1]
    assert any(cache.glob("partial-*.json"))


def _never(*args: object, **kwargs: object) -> str:
    raise AssertionError("partial SQL worked out again")


def test_partial_rebuild_sql_kept_in_a_warehouse_is_not_used_by_newer_code(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The warehouse kept the SQL by the model and filters alone, so after an upgrade that
    # writes a restriction differently the old SQL went on being run.
    sql = "select o.pupil_key, count(*) as n from core.fct_observation as o group by 1"
    filters = {"core.fct_observation": "pupil_key"}
    con = duckdb.connect()
    con.execute("CREATE SCHEMA meta")
    monkeypatch.setattr(sql_cache, "code_version", lambda: "release-1")
    monkeypatch.setattr(incremental, "restrict_inputs", lambda *a: "-- written by release 1")
    writer = IncrementalWriter(con, ["pupil_key"])
    assert writer.restrict_inputs(sql, filters) == "-- written by release 1"
    writer.save()

    monkeypatch.setattr(sql_cache, "code_version", lambda: "release-2")
    monkeypatch.setattr(incremental, "restrict_inputs", lambda *a: "-- written by release 2")
    assert IncrementalWriter(con, ["pupil_key"]).restrict_inputs(sql, filters) == (
        "-- written by release 2"
    )
