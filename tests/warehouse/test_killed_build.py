"""A full build is one transaction: ``empowered build`` killed part-way (SIGKILL, some
marts already rebuilt) leaves every table as it was before the build; the next one builds."""

from __future__ import annotations

import csv
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from empowered.sources.importer import import_canonical_folder
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse
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


def test_a_killed_build_leaves_every_table_as_before(
    built_warehouse: Path, small_trust: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_warehouse, warehouse)
    # Rows landed and not yet built: a build that got part-way would change the marts.
    con = open_warehouse(warehouse)
    import_canonical_folder(con, new_observations(small_trust, tmp_path / "new"), keys=TEST_KEYS)
    con.close()
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
