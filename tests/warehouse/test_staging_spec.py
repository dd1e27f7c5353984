"""Staging declarations (empowered.warehouse.staging_spec): what they write and how it runs."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import sqlglot

from empowered.sources.canonical import APP_ENTITIES, ENTITIES
from empowered.warehouse.models import ModelError, discover_models, load_model
from empowered.warehouse.staging_spec import PROJECT_FUNCTIONS, expand, unknown_functions

THINGS = """-- grain: one row per landed thing
-- unique_key: [_batch_id, _source_row, _source_item]
-- natural_key: [thing_id]
-- source: raw.things
-- school_checked: false
-- columns:
--   thing_id: trim
--   seen_on: uk_date
--   seen_minute: {minutes: seen_time, raw: seen_time_raw}
--   score: integer
--   kind: {lower: kind, raw: kind_raw}
--   flag: boolean
-- rules:
--   1: {not_blank: thing_id}
--   10: {required: seen_on}
--   11: {not_future: seen_on}
--   12: {parse: seen_minute}
--   13: {parse: score, min: 1, max: 5}
--   14: {allowed: kind, values: [big, small], required: true}
--   15: {parse: flag}
--   100: {check: score = 5, column: score, message: "is the highest score: check it"}
"""

RAW = ["thing_id", "seen_on", "seen_time", "score", "kind", "flag"]


def run(tmp_path: Path, rows: list[tuple[str | None, ...]], landed: datetime) -> list[tuple]:
    (tmp_path / "staging").mkdir(exist_ok=True)
    path = tmp_path / "staging" / "stg_things.sql"
    path.write_text(THINGS)
    model = load_model(path, "staging")
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw; CREATE SCHEMA meta")
    con.execute(
        "CREATE TABLE meta.batches (batch_id BIGINT, loaded_at TIMESTAMP);"
        "CREATE TABLE raw.things (_batch_id BIGINT, _source_row BIGINT, _source_item BIGINT,"
        " _source_file VARCHAR, " + ", ".join(f"{c} VARCHAR" for c in RAW) + ")"
    )
    con.execute("INSERT INTO meta.batches VALUES (1, ?)", [landed])
    for n, row in enumerate(rows, start=1):
        con.execute(
            "INSERT INTO raw.things VALUES (1, ?, 0, 'things.csv', ?, ?, ?, ?, ?, ?)", [n, *row]
        )
    return con.execute(
        "SELECT _source_row, _reject_column, _reject_value, _reject_reason, _warning_reason, "
        f"_is_current FROM ({model.sql}) ORDER BY 1"
    ).fetchall()


def test_each_kind_of_rule_reports_its_column_value_and_message(tmp_path: Path) -> None:
    got = run(
        tmp_path,
        [
            ("a", "05/01/2025", "9:30", "3", "Big", "Y"),
            ("b", "2025-13-01", "9:30", "3", "big", "Y"),
            ("c", "5/1/2025", "25:00", "3", "big", "Y"),
            ("d", "5/1/2025", None, "6", "big", "Y"),
            ("e", "5/1/2025", None, "2", "huge", "Y"),
            ("f", "5/1/2025", None, "2", "big", "maybe"),
            (" ", "5/1/2025", None, "2", "big", "N"),
            ("a", "5/1/2025", None, "2", "big", "N"),
            ("g", "5/1/2025", None, "5", "small", None),
        ],
        datetime(2025, 2, 1, 9, 0),
    )
    assert got == [
        (1, None, None, None, None, True),
        (
            2,
            "seen_on",
            "2025-13-01",
            "is missing or is not a date (expected DD/MM/YYYY or YYYY-MM-DD)",
            None,
            False,
        ),
        (3, "seen_time", "25:00", "is not a time of day (expected HH:MM, 24-hour)", None, False),
        (4, "score", "6", "is not a whole number from 1 to 5", None, False),
        (5, "kind", "huge", "is not one of: big, small", None, False),
        (6, "flag", "maybe", "must be Y or N (or Yes/No)", None, False),
        (7, "thing_id", "", "is missing", None, False),
        (8, "thing_id", "a", "repeats row 1 of this file (same thing ID)", None, False),
        (9, None, None, None, "is the highest score: check it", True),
    ]


def test_in_the_future_means_after_the_batch_landed_not_after_today(tmp_path: Path) -> None:
    # A row dated after its file was landed was a mistake in that file, and stays one:
    # the verdict must not change as the calendar moves on, or an incremental build (which
    # never revisits old rows) and a full build would disagree.
    landed = datetime(2024, 3, 1, 12, 0)
    got = run(
        tmp_path,
        [("a", "2024-03-01", None, "2", "big", "Y"), ("b", "2024-03-02", None, "2", "big", "Y")],
        landed,
    )
    assert date.today() > date(2024, 3, 2)  # both dates are in the past today
    assert [(row, reason) for row, _, _, reason, _, _ in got] == [
        (1, None),
        (2, "is in the future"),
    ]


def test_project_functions_expand_into_portable_sql() -> None:
    tree = expand("select parse_uk_date(r.d), minutes_of(r.t), yes_no(r.f) from raw.x as r")
    assert not unknown_functions(tree)
    spark = sqlglot.transpile(tree.sql(dialect="duckdb"), read="duckdb", write="spark")[0]
    assert "parse_uk_date" not in spark.lower() and "RLIKE" in spark
    con = duckdb.connect()
    got = con.execute(
        "SELECT "
        + expand("select parse_uk_date(d), minutes_of(t), yes_no(f)").sql("duckdb")[7:]
        + " FROM (VALUES ('5/1/2025', '09:05', ' yes'), ('2025-02-30', 'x', 'no')) AS v(d, t, f)"
    ).fetchall()
    assert got == [(date(2025, 1, 5), 545, True), (None, None, False)]


def test_a_project_function_given_the_wrong_arguments_is_refused(tmp_path: Path) -> None:
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "stg_x.sql").write_text(
        "-- grain: x\nselect parse_uk_date(a, b) from raw.x"
    )
    with pytest.raises(ModelError, match="parse_uk_date takes 1"):
        discover_models(tmp_path)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("--   10: {required: nowhere}", "nowhere is not a declared column"),
        ("--   10: {parse: thing_id}", "has no parser to fail"),
        ("--   10: {required: thing_id}", "state its message"),
        ("--   90: {not_blank: thing_id}", "5, 6 and 90 are the shared rules"),
        ("--   10: {not_blank: thing_id, allowed: thing_id}", "exactly one kind"),
    ],
)
def test_bad_declarations_are_refused_with_the_file_named(
    tmp_path: Path, rules: str, message: str
) -> None:
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "stg_bad.sql").write_text(
        "-- grain: x\n-- natural_key: [thing_id]\n-- source: raw.x\n-- school_checked: false\n"
        "-- columns:\n--   thing_id: trim\n-- rules:\n" + rules + "\n"
    )
    with pytest.raises(ModelError, match=message) as err:
        discover_models(tmp_path)
    assert "stg_bad.sql" in str(err.value)


def test_no_unknown_function_is_left_in_any_shipped_model() -> None:
    # sqlglot passes a function it does not know to Spark unchanged, where it fails: every
    # project function must have been expanded (CREATE MACRO would not reach Spark either).
    for model in discover_models().values():
        tree = sqlglot.parse_one(model.sql, read="duckdb")
        assert not unknown_functions(tree), f"{model.name}: {unknown_functions(tree)}"
        for name in PROJECT_FUNCTIONS:
            assert not re.search(rf"\b{name}\s*\(", model.sql, re.IGNORECASE), model.name


def test_each_validated_staging_model_reads_one_raw_table_and_keeps_its_columns() -> None:
    models = discover_models()
    validated = [
        m for m in models.values() if m.layer == "staging" and "_first_row_with_key" in m.sql
    ]
    # One per canonical entity and one per entity entered in the app.
    assert len(validated) == len(ENTITIES) + len(APP_ENTITIES)
    for model in validated:
        raw = {s for s in model.sources if s.startswith("raw.") and s != "raw.pupil_pseudonym"}
        assert len(raw) == 1, model.name
        for column in ("_batch_id", "_source_row", "_source_item", "_source_file"):
            assert column in model.sql
    # Quarantine reads every one of them, generated rather than typed out.
    for name in ("rejected_rows", "accepted_with_warnings", "batch_balance"):
        assert {m.name for m in validated} <= models[f"quarantine.{name}"].depends_on


def test_quarantine_follows_a_staging_model_added_after_it_was_read(tmp_path: Path) -> None:
    # Written SQL is kept between discoveries; adding a declared model must still add its arm.
    def declare(name: str) -> None:
        (tmp_path / "staging" / f"{name}.sql").write_text(
            f"-- grain: x\n-- natural_key: [k]\n-- source: raw.{name}\n-- school_checked: false\n"
            "-- columns:\n--   k: trim\n"
        )

    (tmp_path / "staging").mkdir()
    (tmp_path / "quarantine").mkdir()
    (tmp_path / "quarantine" / "rejected.sql").write_text(
        "-- grain: x\nselect model_entity() as entity, _batch_id\n"
        "from staging.each_validated_model where _reject_reason is not null"
    )
    declare("stg_canonical_a")
    first = discover_models(tmp_path)["quarantine.rejected"]
    assert first.depends_on == {"staging.stg_canonical_a"}
    declare("stg_canonical_b")
    second = discover_models(tmp_path)["quarantine.rejected"]
    assert second.depends_on == {"staging.stg_canonical_a", "staging.stg_canonical_b"}
    assert "'b' AS entity" in second.sql
