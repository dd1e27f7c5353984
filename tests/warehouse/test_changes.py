"""What an incremental build believes changed: raw batches, edited models, failed builds."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from empowered.warehouse.build import build_duckdb
from empowered.warehouse.changes import WHOLE, Change, merge, raw_changes
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.runner import ModelResult


def test_raw_changes_name_new_altered_and_gone_batches() -> None:
    before = {"raw.a": {1: 10, 2: 5}, "raw.b": {3: 7}, "raw.pupil_pseudonym": (4, 99)}
    after = {"raw.a": {1: 10, 2: 4, 5: 3}, "raw.b": {3: 7}, "raw.pupil_pseudonym": (6, 123)}
    changes = raw_changes(before, after)
    assert changes["raw.a"] == Change(keys={"_batch_id": frozenset({2, 5})}, appended_only=False)
    assert "raw.b" not in changes
    # The pseudonyms only grow when pupils are first seen: that cannot alter older rows.
    assert changes["raw.pupil_pseudonym"] == Change(appended_only=True)


def test_only_new_batches_are_appended_and_a_shrunk_pseudonym_table_is_whole() -> None:
    changes = raw_changes(
        {"raw.a": {1: 10}, "raw.pupil_pseudonym": (4, 99)},
        {"raw.a": {1: 10, 2: 1}, "raw.pupil_pseudonym": (3, 12)},
    )
    assert changes["raw.a"].appended_only
    assert changes["raw.pupil_pseudonym"] == WHOLE
    gone = raw_changes({"raw.a": {1: 10, 2: 1}}, {"raw.a": {1: 10}})
    assert gone["raw.a"] == Change(keys={"_batch_id": frozenset({2})})


def test_merged_changes_keep_every_value_and_whole_wins() -> None:
    a = Change(keys={"pupil_key": frozenset({"P1"})}, appended_only=True)
    b = Change(keys={"pupil_key": frozenset({"P2"}), "school_urn": frozenset({"1"})})
    # a does not say which schools it touched, so the merged change cannot either.
    assert merge([a, b]) == Change(keys={"pupil_key": frozenset({"P1", "P2"})})
    assert merge([a, b]).values("school_urn") is None
    assert merge([a, WHOLE]) == WHOLE


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = open_warehouse(tmp_path / "w.duckdb")
    con.execute("CREATE TABLE raw.notes (_batch_id BIGINT, pupil_key VARCHAR, note VARCHAR)")
    con.execute("INSERT INTO raw.notes VALUES (1, 'P1', 'settled'), (1, 'P2', 'calm')")
    return con


def _models(root: Path, note_sql: str) -> Path:
    (root / "core").mkdir(parents=True, exist_ok=True)
    (root / "core" / "notes.sql").write_text(
        f"-- grain: one row per note\n-- unique_key: [pupil_key]\n{note_sql}"
    )
    (root / "core" / "note_count.sql").write_text(
        "-- grain: one row\nselect count(*) as notes from core.notes"
    )
    return root


def _ran(result: object) -> list[str]:
    return [r.model.name for r in result.results]  # type: ignore[attr-defined]


def test_an_edited_model_is_rebuilt_in_full_with_what_reads_it(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    root = _models(tmp_path / "models", "select pupil_key, note from raw.notes")
    assert build_duckdb(con, models_root=root).ok
    # Nothing landed, nothing edited: nothing runs.
    assert _ran(build_duckdb(con, touched=set(), models_root=root)) == []
    _models(root, "select pupil_key, upper(note) as note from raw.notes")
    result = build_duckdb(con, touched=set(), models_root=root)
    assert _ran(result) == ["core.notes", "core.note_count"]
    assert con.execute("SELECT note FROM core.notes ORDER BY 1").fetchall() == [
        ("CALM",),
        ("SETTLED",),
    ]


def test_a_new_batch_reaches_what_reads_it_and_a_failed_build_makes_the_next_full(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    root = _models(tmp_path / "models", "select pupil_key, note from raw.notes")
    assert build_duckdb(con, models_root=root).ok
    con.execute("INSERT INTO raw.notes VALUES (2, 'P2', 'again')")
    result = build_duckdb(con, touched={"raw.notes"}, models_root=root)
    assert _ran(result) == ["core.notes", "core.note_count"]
    assert not result.ok  # P2 twice breaks the unique key, and the count is skipped
    # The snapshot is gone: the next build cannot trust what this one left, and is full.
    con.execute("DELETE FROM raw.notes WHERE _batch_id = 2")
    result = build_duckdb(con, touched=set(), models_root=root)
    assert result.ok and _ran(result) == ["core.notes", "core.note_count"]


def test_a_capture_saved_while_a_build_runs_is_the_next_builds(
    warehouse_copy: duckdb.DuckDBPyConnection, small_trust: Path
) -> None:
    """The server saves captures while it rebuilds: a batch landed after staging read raw
    is not "landed but neither accepted nor quarantined"; the next build takes it."""
    import csv

    from check_ins import land_check_in
    from empowered.sources.landing import ensure_raw_tables

    con = warehouse_copy
    with (small_trust / "observations.csv").open(newline="") as f:
        row = next(csv.DictReader(f))
    ensure_raw_tables(con)
    landed: list[int] = []

    def capture_meanwhile(result: ModelResult, index: int, total: int) -> None:
        if result.model.name == "staging.stg_canonical_observations" and not landed:
            saved = land_check_in(
                con,
                school_urn=row["school_urn"],
                upn=row["upn"],
                day=row["observed_on"],
                time="10:00",
            )
            assert saved.batch.batch_id is not None
            landed.append(saved.batch.batch_id)

    # A change to build: the same observations landed again as a new file.
    con.execute(
        "INSERT INTO raw.canonical_observations SELECT * REPLACE (_batch_id + 100000 AS "
        "_batch_id) FROM raw.canonical_observations LIMIT 1"
    )
    first = build_duckdb(con, touched={"raw.canonical_observations"}, progress=capture_meanwhile)
    assert landed and first.ok, [f.message for f in first.failures()]
    second = build_duckdb(con, touched={"raw.canonical_observations"})
    assert second.ok, [f.message for f in second.failures()]
    [(accepted,)] = con.execute(
        "SELECT count(*) FROM staging.stg_canonical_observations "
        "WHERE _batch_id = ? AND _reject_reason IS NULL",
        landed,
    ).fetchall()
    assert accepted == 1


def test_a_model_that_fails_in_an_incremental_build_is_left_as_it_was(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Each model's rebuild is one transaction: an engine error after its table was
    rewritten (here, in a check) rolls the table back, never leaving it half rebuilt."""
    root = _models(tmp_path / "models", "select pupil_key, note from raw.notes")
    (root / "core" / "notes.sql").write_text(
        "-- grain: one row per note\n-- unique_key: [pupil_key]\n-- checks:\n"
        "--   - name: numbered\n--     sql: >-\n--       select * from core.notes where"
        " case when pupil_key = 'P3' then cast(note as integer) end < 0\n"
        "select pupil_key, note from raw.notes"
    )
    assert build_duckdb(con, models_root=root).ok  # no P3 yet: nothing to cast
    con.execute("INSERT INTO raw.notes VALUES (2, 'P3', 'bright')")
    result = build_duckdb(con, touched={"raw.notes"}, models_root=root)
    assert [(r.model.name, r.status) for r in result.results] == [
        ("core.notes", "error"),
        ("core.note_count", "skipped"),
    ]
    assert "Conversion Error" in result.results[0].message
    assert con.execute("SELECT pupil_key FROM core.notes ORDER BY 1").fetchall() == [
        ("P1",),
        ("P2",),
    ]
    assert con.execute(
        "SELECT model, status FROM meta.model_runs WHERE run_id = ? ORDER BY model",
        [result.run_id],
    ).fetchall() == [("core.note_count", "skipped"), ("core.notes", "error")]
    # The snapshot is gone: the next build is full.
    assert con.execute("SELECT count(*) FROM meta.raw_snapshot").fetchall() == [(0,)]


def test_reference_tables_are_written_again_only_when_missing_or_out_of_date(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Every build makes sure of the DfE seeds and the calendar, but rewrites them only
    when what they are made from changed or a table is missing, not for every day."""
    root = _models(tmp_path / "models", "select pupil_key, note from raw.notes")
    assert build_duckdb(con, models_root=root).ok
    [(days,)] = con.execute("SELECT count(*) FROM reference.calendar_date").fetchall()
    con.execute("DELETE FROM reference.calendar_date WHERE date_day < DATE '2016-01-01'")
    assert build_duckdb(con, touched=set(), models_root=root).ok
    [(kept,)] = con.execute("SELECT count(*) FROM reference.calendar_date").fetchall()
    assert kept < days  # unchanged seeds and code: not rewritten
    con.execute("DROP TABLE reference.national_figure")
    assert build_duckdb(con, touched=set(), models_root=root).ok
    assert con.execute("SELECT count(*) FROM reference.national_figure").fetchall()[0][0] > 0
    assert con.execute("SELECT count(*) FROM reference.calendar_date").fetchall() == [(days,)]
    con.execute("UPDATE meta.reference_loaded SET fingerprint = 'seeds of an older release'")
    con.execute("DELETE FROM reference.calendar_date WHERE date_day < DATE '2016-01-01'")
    assert build_duckdb(con, touched=set(), models_root=root).ok
    assert con.execute("SELECT count(*) FROM reference.calendar_date").fetchall() == [(days,)]


def test_raw_tables_missing_a_column_gain_it(con: duckdb.DuckDBPyConnection) -> None:
    """Raw tables already whole are left alone; one made before a column existed gains it."""
    from empowered.sources.canonical import ENTITIES
    from empowered.sources.landing import ensure_raw_tables

    ensure_raw_tables(con)
    entity = next(e for e in ENTITIES.values() if e.index_columns)
    column = entity.index_columns[0]
    con.execute(f"ALTER TABLE {entity.raw_table} DROP COLUMN {column}")
    con.execute("DROP TABLE raw.canonical_terms")
    ensure_raw_tables(con)
    schema, table = entity.raw_table.split(".")
    assert con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
        "AND column_name = ?",
        [schema, table, column],
    ).fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM raw.canonical_terms").fetchall() == [(0,)]
