"""A full build is one transaction: ``empowered build`` killed part-way (SIGKILL, some
marts already rebuilt) leaves every table as it was before the build; the next one builds."""

from __future__ import annotations

import csv
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

from empowered.sources.importer import import_canonical_folder
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.models import discover_models
from identity_keys import TEST_KEYS
from warehouse_state import changed, contents

BUILD = "import sys; from empowered.cli import app; app(sys.argv[1:], prog_name='empowered')"


def new_observations(small_trust: Path, folder: Path, rows: int = 300) -> Path:
    """A later export of observations: rows the warehouse has not seen (new ids)."""
    folder.mkdir()
    with (small_trust / "observations.csv").open(newline="") as source:
        reader = csv.DictReader(source)
        taken = [row for _, row in zip(range(rows), reader, strict=False)]
    with (folder / "observations.csv").open("w", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(taken[0]))
        writer.writeheader()
        for row in taken:
            writer.writerow({**row, "observation_id": "N" + row["observation_id"]})
    return folder


def landed_not_built(built_warehouse: Path, small_trust: Path, tmp_path: Path) -> Path:
    """A copy of the small trust with new observations landed and not yet built: a build
    that got part-way would leave some tables with them and others without."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_warehouse, warehouse)
    con = open_warehouse(warehouse)
    import_canonical_folder(con, new_observations(small_trust, tmp_path / "new"), keys=TEST_KEYS)
    con.close()
    return warehouse


def test_a_killed_build_leaves_every_table_as_before(
    built_warehouse: Path, small_trust: Path, tmp_path: Path
) -> None:
    warehouse = landed_not_built(built_warehouse, small_trust, tmp_path)
    before = contents(warehouse)

    child = subprocess.Popen(
        [sys.executable, "-u", "-c", BUILD, "build", "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 240
        for line in child.stdout:
            seen.append(line)
            if " ok " in line and "marts." in line:
                break  # some marts rebuilt, the build going on
            assert time.monotonic() < deadline, "".join(seen)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL, "".join(seen)
    assert not any("build ok" in line for line in seen)

    # Staging, core, marts, raw, meta, app: every table as it was before the build.
    assert changed(before, contents(warehouse)) == []
    # The next build takes the new rows through to the marts.
    con = open_warehouse(warehouse)
    try:
        result = build_duckdb(con)
        assert result.ok, [f.message for f in result.failures()]
        [(built,)] = con.execute(
            "SELECT count(*) FROM core.fct_observation WHERE observation_id LIKE 'N%'"
        ).fetchall()
        assert built == 300
    finally:
        con.close()
    assert "marts.wellbeing_pupil_day" in changed(before, contents(warehouse))


# An incremental build (as after a capture or a plan saved) commits model by model: killed
# (SIGKILL) once a core table has committed, before the marts.
KILLED_INCREMENTAL = textwrap.dedent(
    """
    import os, signal, sys
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse

    def progress(result, index, total):
        if result.status == "ok" and result.model.name.startswith("core."):
            os.kill(os.getpid(), signal.SIGKILL)

    con = open_warehouse(sys.argv[1])
    build_duckdb(con, touched={"raw.canonical_observations"}, progress=progress)
    """
)


def observations_in_marts(con: duckdb.DuckDBPyConnection) -> int:
    [(total,)] = con.execute("SELECT sum(observations) FROM marts.wellbeing_pupil_day").fetchall()
    return int(total)


def test_an_incremental_build_killed_part_way_is_followed_by_a_full_one(
    built_warehouse: Path, small_trust: Path, tmp_path: Path
) -> None:
    con = duckdb.connect(str(built_warehouse), read_only=True)
    before = observations_in_marts(con)
    con.close()
    warehouse = landed_not_built(built_warehouse, small_trust, tmp_path)
    child = subprocess.run(
        [sys.executable, "-c", KILLED_INCREMENTAL, str(warehouse)], capture_output=True, text=True
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    con = open_warehouse(warehouse)
    try:
        assert con.execute("SELECT count(*) FROM meta.build_in_progress").fetchall() == [(1,)]
        # Killed before the marts: they do not have the new rows yet.
        assert observations_in_marts(con) == before
        # The next build, however little it was asked to do, rebuilds in full and says so
        # (the snapshot the killed build saved already counts the new rows as built).
        result = build_duckdb(con, touched=set())
        assert result.ok and result.after_interrupted
        assert len(result.results) == len(discover_models())
        assert con.execute("SELECT count(*) FROM meta.build_in_progress").fetchall() == [(0,)]
        assert observations_in_marts(con) == before + 300
    finally:
        con.close()
