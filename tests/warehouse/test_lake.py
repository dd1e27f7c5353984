"""The lake without Spark: its log of snapshots, vacuum, publishing the warehouse's sources
by batch, and a warehouse served from a lake landing what it is given there."""

from __future__ import annotations

import csv
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from empowered.warehouse.lake import Lake, LakeError, Snapshot, TableEntry
from empowered.warehouse.lake_publish import RAW_SNAPSHOT, behind, publish

OBS = "raw.canonical_observations"


def _entry(lake: Lake, table: str, text: str = "x") -> TableEntry:
    relative = lake.new_file(table, ".txt")
    lake.path(relative).parent.mkdir(parents=True, exist_ok=True)
    lake.path(relative).write_text(text)
    return TableEntry(files=(relative,), columns=("a",), rows=1, token=text)


def test_a_new_lake_has_an_empty_snapshot(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    assert lake.current().version == 0
    assert lake.current().tables == {}


def test_object_store_uris_are_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="mount the object store"):
        Lake("s3://bucket/lake")
    assert Lake(f"file://{tmp_path}").root == tmp_path


def test_a_writer_that_loses_the_race_commits_on_top_of_the_winner(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    other = Lake(tmp_path / "lake")
    seen: list[int] = []

    def mine(latest: Snapshot) -> Snapshot:
        seen.append(latest.version)
        if len(seen) == 1:  # another writer commits while this one is at work
            other.commit(lambda s: s.with_tables({"raw.theirs": _entry(other, "raw.theirs")}))
        return latest.with_tables({"raw.mine": _entry(lake, "raw.mine")})

    committed = lake.commit(mine)
    assert seen == [0, 1]  # tried again on the newer snapshot
    assert committed.version == 2
    assert set(lake.current().tables) == {"raw.theirs", "raw.mine"}
    assert Snapshot.from_json(committed.to_json()) == committed


def test_vacuum_keeps_what_recent_snapshots_name_and_what_a_writer_is_still_writing(
    tmp_path: Path,
) -> None:
    lake = Lake(tmp_path / "lake")
    names = []
    for i in range(5):
        entry = _entry(lake, "raw.t", str(i))
        names.append(entry.files[0])
        lake.commit(lambda s, e=entry: s.with_tables({"raw.t": e}))  # type: ignore[misc]
    orphan_old = _entry(lake, "raw.t", "killed build").files[0]
    orphan_new = _entry(lake, "raw.t", "being written").files[0]
    hour_ago = time.time() - 7200
    for relative in [*names, orphan_old]:
        os.utime(lake.path(relative), (hour_ago, hour_ago))
    removed = lake.vacuum(keep=3)
    assert removed == 3  # the two files only old snapshots named, and the killed build's
    assert [lake.path(n).exists() for n in names] == [False, False, True, True, True]
    assert not lake.path(orphan_old).exists()
    assert lake.path(orphan_new).exists()
    assert lake.current().version == 5
    assert len(list((lake.root / "_log").glob("*.json"))) == 3


def _same_rows(con: duckdb.DuckDBPyConnection, table: str, files: list[str]) -> bool:
    listed = ", ".join(f"'{f}'" for f in files)
    read = f"read_parquet([{listed}])"
    [(extra,)] = con.execute(
        f"SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL SELECT * FROM {read})"
    ).fetchall()
    [(missing,)] = con.execute(
        f"SELECT count(*) FROM (SELECT * FROM {read} EXCEPT ALL SELECT * FROM {table})"
    ).fetchall()
    return extra == missing == 0


def test_publishing_lands_every_source_and_only_what_changed_after(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    lake = Lake(tmp_path / "lake")
    first = publish(con, lake)
    for table in (OBS, "raw.canonical_attendance", "reference.calendar_date", "meta.batches"):
        files = [str(lake.path(f)) for f in first.tables[table].files]
        assert _same_rows(con, table, files), table
    assert first.tables[RAW_SNAPSHOT].rows > 0
    assert publish(con, lake).version == first.version  # nothing changed: nothing committed

    # A new landing of check-ins: one new file for that table, the others untouched.
    [(batch,)] = con.execute(
        "SELECT max(_batch_id) + 1000 FROM raw.canonical_observations"
    ).fetchall()
    con.execute(
        f"INSERT INTO {OBS} SELECT * REPLACE ({batch} AS _batch_id, "
        "observation_id || '-again' AS observation_id) FROM raw.canonical_observations LIMIT 7"
    )
    second = publish(con, lake, tables={OBS})
    before, after = first.tables[OBS], second.tables[OBS]
    assert len(set(after.files) - set(before.files)) == 1
    assert set(before.files) <= set(after.files)
    assert after.batches[str(batch)][0] == 7
    unchanged = {n for n, e in second.tables.items() if e == first.tables.get(n)}
    assert unchanged == set(first.tables) - {OBS, RAW_SNAPSHOT}
    assert _same_rows(con, OBS, [str(lake.path(f)) for f in after.files])

    # A purge of part of an older batch: its file is written again; the new batch's is not.
    [(old,)] = con.execute(f"SELECT min(_batch_id) FROM {OBS}").fetchall()
    con.execute(f"DELETE FROM {OBS} WHERE _batch_id = {old} AND _source_row % 2 = 0")
    third = publish(con, lake, tables={OBS})
    purged = third.tables[OBS]
    assert purged.batches[str(batch)] == after.batches[str(batch)]
    assert purged.batches[str(old)][2] != after.batches[str(old)][2]
    assert _same_rows(con, OBS, [str(lake.path(f)) for f in purged.files])
    assert third.tables[RAW_SNAPSHOT].token != second.tables[RAW_SNAPSHOT].token


def _served_copy(built_warehouse: Path, tmp_path: Path) -> tuple[Path, Lake]:
    """A copy of the built warehouse, published to a lake of its own and served from it."""
    import shutil

    from empowered.warehouse.connection import open_warehouse
    from empowered.warehouse.lake_attach import attach

    path = tmp_path / "served.duckdb"
    shutil.copy(built_warehouse, path)
    con = open_warehouse(path)
    lake = Lake(tmp_path / "lake")
    publish(con, lake)
    attach(con, lake)
    con.close()
    return path, lake


def _new_check_ins(small_trust: Path, folder: Path, rows: int) -> Path:
    """Check-ins as the synthetic trust writes them, under new ids: new rows to import."""
    with (small_trust / "observations.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or ())
        picked = [r for r in reader if r["mood"]][:rows]
    folder.mkdir()
    with (folder / "observations.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        for i, row in enumerate(picked):
            writer.writerow(row | {"observation_id": f"LAKE{i:04d}"})
    return folder


def test_a_warehouse_served_from_a_lake_lands_imports_there_instead_of_building(
    warehouse_copy: duckdb.DuckDBPyConnection, small_trust: Path, tmp_path: Path
) -> None:
    from empowered.sources.importer import import_canonical_folder
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.lake_attach import attach, detach, served_lake
    from identity_keys import TEST_KEYS

    con = warehouse_copy
    lake = Lake(tmp_path / "lake")
    publish(con, lake)
    attached = attach(con, lake)  # no Spark build yet: every model reads as empty
    assert served_lake(con) is not None and attached.version == 1
    [(pupils,)] = con.execute("SELECT count(*) FROM core.dim_pupil").fetchall()
    assert pupils == 0
    before = lake.current().tables[OBS]
    import_canonical_folder(con, _new_check_ins(small_trust, tmp_path / "new", 3), keys=TEST_KEYS)
    result = build_duckdb(con, touched={OBS})  # as an import's build
    assert result.ok and result.results == []
    [(batch,)] = con.execute(f"SELECT max(_batch_id) FROM {OBS}").fetchall()
    after = lake.current().tables[OBS]
    assert after.batches[str(batch)][0] == 3  # landed in the lake...
    assert len(after.files) == len(before.files) + 1
    [(pupils,)] = con.execute("SELECT count(*) FROM core.dim_pupil").fetchall()
    assert pupils == 0  # ...and nothing built here
    detach(con)
    assert served_lake(con) is None
    rebuilt = build_duckdb(con)
    assert rebuilt.ok, [r.message for r in rebuilt.failures()]
    [(pupils,)] = con.execute("SELECT count(*) FROM core.dim_pupil").fetchall()
    assert pupils > 0  # built here again, as tables


def test_a_server_over_a_lake_follows_its_new_snapshots(
    built_warehouse: Path, small_trust: Path, tmp_path: Path
) -> None:
    """The server points its views at a snapshot committed after it started (here: an
    import another process published), once, and moves the tables' versions so nothing
    cached from the old snapshot is served."""
    import shutil

    from empowered.sources.importer import import_canonical_folder
    from empowered.warehouse.connection import open_warehouse
    from empowered.warehouse.lake_attach import attached_version
    from empowered.web import lake_refresh
    from empowered.web.app import create_app
    from identity_keys import TEST_KEYS

    path, lake = _served_copy(built_warehouse, tmp_path)
    other = tmp_path / "other.duckdb"  # another warehouse publishing to the same lake
    shutil.copy(built_warehouse, other)
    writer = open_warehouse(other)
    import_canonical_folder(
        writer, _new_check_ins(small_trust, tmp_path / "new", 2), keys=TEST_KEYS
    )
    app = create_app(path)
    try:
        assert lake_refresh.refresh(app, lake) is False  # nothing newer yet
        publish(writer, lake, tables={OBS})
        before = app.state.warehouse.version_of()
        assert lake_refresh.refresh(app, lake) is True
        assert app.state.warehouse.version_of() != before
        with app.state.warehouse.reading() as cursor:
            assert attached_version(cursor) == lake.version() == 2
        assert lake_refresh.refresh(app, lake) is False
    finally:
        app.state.warehouse.close()
        writer.close()


def test_served_tables_read_the_lake_files_with_duckdbs_types(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A model's files are read with each column cast to the type DuckDB's own build gives
    it; a table the lake holds with a column missing (built by an older release) reads as
    empty rather than failing the pages."""
    from empowered.warehouse.lake_attach import attach

    con = warehouse_copy
    lake = Lake(tmp_path / "lake")
    publish(con, lake)
    schools = sorted(con.execute("SELECT * FROM core.dim_school").fetchall())
    types = con.execute("DESCRIBE core.dim_school").fetchall()
    entries = {}
    for table, select in (
        # Every column as text: what another engine's types would look like, at worst.
        ("core.dim_school", "SELECT COLUMNS(*)::VARCHAR FROM core.dim_school"),
        ("core.dim_pupil", "SELECT * EXCLUDE (school_urn) FROM core.dim_pupil"),
    ):
        relative = lake.new_file(table)
        lake.path(relative).parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY ({select}) TO '{lake.path(relative)}' (FORMAT parquet)")
        columns = tuple(d[0] for d in con.execute(f"{select} LIMIT 0").description or [])
        entries[table] = TableEntry(files=(relative,), columns=columns, rows=1, token="t")
    lake.commit(lambda s: s.with_tables(entries))
    attach(con, lake)
    assert con.execute("DESCRIBE core.dim_school").fetchall() == types
    assert sorted(con.execute("SELECT * FROM core.dim_school").fetchall()) == schools
    [(pupils,)] = con.execute("SELECT count(*) FROM core.dim_pupil").fetchall()
    assert pupils == 0


def test_an_import_rolled_back_after_publishing_is_taken_out_of_the_lake(
    built_warehouse: Path, small_trust: Path, tmp_path: Path
) -> None:
    """An import publishes inside its transaction; if that transaction is then rolled
    back (a disk full at the commit), the server's next look at the lake publishes the
    warehouse as committed, without the batch."""

    from empowered.sources.importer import import_canonical_folder
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse
    from empowered.web import lake_refresh
    from empowered.web.app import create_app
    from identity_keys import TEST_KEYS

    path, lake = _served_copy(built_warehouse, tmp_path)
    con = open_warehouse(path)
    held = lake.current().tables[OBS]
    con.execute("BEGIN TRANSACTION")
    import_canonical_folder(con, _new_check_ins(small_trust, tmp_path / "new", 2), keys=TEST_KEYS)
    build_duckdb(con, touched={OBS})
    assert lake.current().tables[OBS].rows == held.rows + 2  # published...
    assert not behind(con, lake)
    con.execute("ROLLBACK")  # ...and then not saved
    assert behind(con, lake)
    con.close()
    app = create_app(path)
    try:
        version = lake_refresh.catch_up(app, lake)
        now = lake.current().tables[OBS]
        assert now.rows == held.rows and now.batches == held.batches
        # Looked at again with nothing new: found level with a read, nothing committed.
        assert lake_refresh.catch_up(app, lake) == version == lake.version()
    finally:
        app.state.warehouse.close()


def _model(name: str, sql: str, sources: set[str], depends_on: frozenset[str] = frozenset()) -> Any:
    from empowered.warehouse.models import Model

    return Model(
        name,
        name.split(".")[0],
        Path(f"{name}.sql"),
        sql,
        "a row",
        (),
        (),
        frozenset(depends_on),
        frozenset(sources),
    )


def test_a_spark_build_is_handed_each_sources_change_since_its_models_were_built() -> None:
    """What a lake build rebuilds starts from the same changes a DuckDB build is handed:
    batches landed, altered or purged; pseudonyms that only grew; landing bookkeeping that
    only grew (nothing); a model edited, never built or built from another table whole."""
    from empowered.warehouse.changes import BATCH_COLUMN, WHOLE, Change
    from empowered.warehouse.spark import changes_since, source_state, sql_digest

    def source(token: str, batches: dict[str, list[Any]] | None = None) -> TableEntry:
        columns = ("a", BATCH_COLUMN) if batches is not None else ("a",)
        return TableEntry(files=(), columns=columns, rows=1, token=token, batches=batches or {})

    then = {
        OBS: source("t1", {"1": [5, "d1", "f"], "2": [3, "d2", "f"], "3": [4, "d3", "f"]}),
        "raw.pupil_pseudonym": source("10:77"),
        "meta.batches": source("3:1"),
        "reference.sen_need_types": source("12:5"),
    }
    models = {
        "staging.s": _model("staging.s", "select 1", {OBS, "meta.batches"}),
        "core.p": _model("core.p", "select 2", {"raw.pupil_pseudonym"}),
        "core.r": _model("core.r", "select 3", {"reference.sen_need_types"}),
        "marts.m": _model("marts.m", "select 4", set(), {"staging.s"}),
        "marts.new": _model("marts.new", "select 5", set(), {"core.p"}),
    }
    built = {name: source_state(entry) for name, entry in then.items()}

    def model_entry(name: str, **changed: Any) -> TableEntry:
        model = models[name]
        tokens = {t: then[t].token if t in then else "b1" for t in model.sources | model.depends_on}
        entry = TableEntry(
            files=(),
            columns=("a",),
            rows=1,
            token="b1",
            sql_digest=sql_digest(model),
            built_from=tokens,
        )
        return dataclasses.replace(entry, **changed)

    now = {
        OBS: source("t2", {"1": [5, "d1", "f"], "2": [2, "d2x", "g"], "4": [6, "d4", "g"]}),
        "raw.pupil_pseudonym": source("12:80"),
        "meta.batches": source("4:2"),
        "reference.sen_need_types": source("12:5"),
        "staging.s": model_entry("staging.s"),
        "core.p": model_entry("core.p"),
        "core.r": model_entry("core.r", sql_digest="other SQL"),
        "marts.m": model_entry("marts.m", built_from={"staging.s": "an older build"}),
    }
    snapshot = Snapshot(version=3, tables=now, sources_built=built)
    assert changes_since(snapshot, models) == {
        # batch 2 lost a row, 3 was purged, 4 is new
        OBS: Change(keys={BATCH_COLUMN: frozenset({2, 3, 4})}, appended_only=False),
        "raw.pupil_pseudonym": Change(appended_only=True),
        "core.r": WHOLE,
        "marts.m": WHOLE,
        "marts.new": WHOLE,
    }
    # Only new batches: appended; a reference table or the bookkeeping otherwise changed: whole.
    grown = {
        **now,
        OBS: source("t3", {**then[OBS].batches, "4": [6, "d4", "g"]}),
        "meta.batches": source("2:9"),
        "reference.sen_need_types": source("13:6"),
    }
    found = changes_since(dataclasses.replace(snapshot, tables=grown), models)
    assert found is not None
    assert found[OBS] == Change(keys={BATCH_COLUMN: frozenset({4})}, appended_only=True)
    assert found["meta.batches"] == WHOLE and found["reference.sen_need_types"] == WHOLE
    # A lake whose models were never built is built in full.
    assert changes_since(Snapshot(version=1, tables=then), models) is None


def test_a_digest_moves_on_by_the_rows_a_partial_rebuild_added_and_removed() -> None:
    from empowered.warehouse.spark_incremental import digest_text, moved_digest

    assert moved_digest(digest_text(10, 1_000), -2 + 3, -40 + 75) == "11:1035"
    assert moved_digest("", 1, 5) == ""  # not known before: not known after
    assert moved_digest("10:None", 1, 5) == ""  # written by an older version
    assert digest_text(0, None) == "0:0"
