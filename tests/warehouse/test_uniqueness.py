"""Unique keys a model's SQL guarantees: not checked again in a full build, and
duplicates still caught where they can arise (staging's current rows, or rows written
into an input behind the build's back)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import Model, discover_models
from empowered.warehouse.runner import run_models
from empowered.warehouse.uniqueness import proven_unique, unique_by_construction

SESSIONS = "core.fct_attendance_session"
STAGED = "staging.stg_canonical_attendance"
CALENDAR = "core.dim_school_calendar"


@pytest.fixture(scope="module")
def models() -> dict[str, Model]:
    return discover_models()


def proof(model: Model, models: dict[str, Model]) -> frozenset[str] | None:
    everything = {**models, model.name: model}
    return unique_by_construction(model, tuple(sorted(everything.values(), key=lambda m: m.name)))


def with_sql(model: Model, sql: str) -> Model:
    return dataclasses.replace(model, sql=sql)


def test_the_sessions_view_is_unique_by_stagings_current_rows_and_the_calendar(
    models: dict[str, Model],
) -> None:
    assert proof(models[SESSIONS], models) == {STAGED, CALENDAR}
    assert proven_unique(models[SESSIONS], models, {STAGED, CALENDAR, "core.dim_pupil"})
    # Only on checks passed in the same build: not when the calendar was not rebuilt.
    assert not proven_unique(models[SESSIONS], models, {STAGED})


def test_the_observations_key_is_stagings_natural_key(models: dict[str, Model]) -> None:
    observations = models["core.fct_observation"]
    assert observations.unique_key == ("school_urn", "observation_id")
    assert proof(observations, models) == {
        "staging.stg_canonical_observations",
        "core.dim_school_minute",
        CALENDAR,
        "core.dim_staff",
    }


def test_a_grouped_cte_is_unique_on_what_it_groups_by(models: dict[str, Model]) -> None:
    day = models["marts.attendance_pupil_day"]
    assert proof(day, models) == {CALENDAR}
    # Grouped by one more column than the key: two rows may share the key.
    coarser = dataclasses.replace(day, unique_key=("pupil_key", "school_urn"))
    assert proof(coarser, models) is None


def test_a_grouped_select_is_unique_on_what_it_groups_by(models: dict[str, Model]) -> None:
    summary = models["marts.strategy_pupil_summary"]
    assert proof(summary, models) == frozenset()
    # Grouping sets give a row per group of each grouping: not unique on their columns.
    sets = with_sql(
        summary,
        "select pupil_key, school_urn, strategy_code, count(*) as uses "
        "from core.fct_strategy_use "
        "group by grouping sets ((pupil_key, school_urn, strategy_code), (pupil_key, school_urn))",
    )
    assert proof(sets, models) is None


@pytest.mark.parametrize(
    "sql",
    [
        # Every row of staging, not only the current ones: a resent key shows twice.
        "select a.pupil_key, a.school_urn, a.session_date, a.session "
        "from staging.stg_canonical_attendance as a",
        # The current-row filter only on one side of an OR.
        "select a.pupil_key, a.school_urn, a.session_date, a.session "
        "from staging.stg_canonical_attendance as a where a._is_current or a.is_present",
        # The calendar matched on the school alone: every day of it joins.
        "select a.pupil_key, a.school_urn, a.session_date, a.session, c.term "
        "from staging.stg_canonical_attendance as a "
        "left join core.dim_school_calendar as c on c.school_urn = a.school_urn "
        "where a._is_current",
        # A source table carries no unique check to lean on.
        "select a.pupil_key, a.school_urn, a.session_date, a.session, r.category "
        "from staging.stg_canonical_attendance as a "
        "left join reference.attendance_code as r on r.code = a.code where a._is_current",
        # A key column computed, not shown from the row source.
        "select a.pupil_key, a.school_urn, a.session_date + 1 as session_date, a.session "
        "from staging.stg_canonical_attendance as a where a._is_current",
        # A union adds rows.
        "select pupil_key, school_urn, session_date, session "
        "from staging.stg_canonical_attendance where _is_current union all "
        "select pupil_key, school_urn, session_date, session "
        "from staging.stg_canonical_attendance where _is_current",
        # unnest makes several rows of one.
        "select a.pupil_key, a.school_urn, a.session_date, unnest([a.session]) as session "
        "from staging.stg_canonical_attendance as a where a._is_current",
    ],
    ids=["all-rows", "filter-in-or", "partial-lookup", "source-lookup", "computed", "union",
         "unnest"],
)  # fmt: skip
def test_sql_that_can_repeat_a_key_is_not_proven(models: dict[str, Model], sql: str) -> None:
    assert proof(with_sql(models[SESSIONS], sql), models) is None


def test_a_proof_is_kept_on_disk_and_worked_out_again_when_a_key_it_rests_on_changes(
    models: dict[str, Model], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new process (a one-shot import) reads the proof back rather than parse the
    model's SQL again; a changed key of a table the model reads is a different proof."""
    from empowered.warehouse import uniqueness

    monkeypatch.setenv("EMPOWERED_SQL_CACHE", str(tmp_path))
    unique_by_construction.cache_clear()  # as in a new process
    worked_out = proof(models[SESSIONS], models)
    assert worked_out == {STAGED, CALENDAR}
    assert len(list(tmp_path.glob("unique-*.json"))) == 1

    def parse_one(*_: object, **__: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(uniqueness.sqlglot, "parse_one", parse_one)
    unique_by_construction.cache_clear()
    assert proof(models[SESSIONS], models) == worked_out
    rekeyed = {**models, STAGED: dataclasses.replace(models[STAGED], natural_key=("pupil_key",))}
    with pytest.raises(AssertionError, match="parsed again"):
        proof(models[SESSIONS], rekeyed)
    unique_by_construction.cache_clear()


def test_a_full_build_leaves_out_only_the_proven_unique_check(
    warehouse_copy: duckdb.DuckDBPyConnection, models: dict[str, Model]
) -> None:
    result = run_models(
        DuckDBEngine(warehouse_copy), models, warehouse_copy, select=[STAGED, CALENDAR, SESSIONS]
    )
    assert result.ok, [r.message for r in result.failures()]
    ran = {r.model.name: {c.check.name for c in r.checks} for r in result.results}
    key = ", ".join(models[SESSIONS].unique_key)
    assert f"unique({key})" not in ran[SESSIONS]
    assert "relationship(pupil_key -> core.dim_pupil.pupil_key)" in ran[SESSIONS]
    assert f"one_current_row({', '.join(models[STAGED].natural_key)})" in ran[STAGED]
    assert "unique(school_urn, date_day)" in ran[CALENDAR]


def test_a_duplicate_current_session_behind_the_builds_back_is_caught_by_the_view(
    warehouse_copy: duckdb.DuckDBPyConnection, models: dict[str, Model]
) -> None:
    warehouse_copy.execute(f"INSERT INTO {STAGED} SELECT * FROM {STAGED} WHERE _is_current LIMIT 1")
    result = run_models(DuckDBEngine(warehouse_copy), models, warehouse_copy, select=[SESSIONS])
    [failed] = result.failures()
    key = ", ".join(models[SESSIONS].unique_key)
    assert f"{SESSIONS}: check unique({key}) found 1 offending row(s)" in failed.message


def test_a_duplicate_current_session_made_by_staging_fails_staging(
    warehouse_copy: duckdb.DuckDBPyConnection, models: dict[str, Model]
) -> None:
    # Staging as if its SQL let a resent session through twice as current.
    warehouse_copy.execute(
        f"CREATE TABLE main.resent AS SELECT * FROM {STAGED} UNION ALL "
        f"(SELECT * REPLACE (_source_row + 1000000 AS _source_row) FROM {STAGED} "
        "WHERE _is_current LIMIT 1)"
    )
    broken = {**models, STAGED: with_sql(models[STAGED], "select * from main.resent")}
    result = run_models(
        DuckDBEngine(warehouse_copy), broken, warehouse_copy, select=[STAGED, CALENDAR, SESSIONS]
    )
    status = {r.model.name: r.status for r in result.results}
    assert status[STAGED] == "failed"
    assert status[SESSIONS] == "skipped"
    [failed] = result.failures()
    assert "one_current_row" in failed.message
