"""An import is one transaction: killed part-way, the warehouse is as it was; a rerun completes."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

from empowered.sources.canonical import ENTITIES
from empowered.sources.importer import import_canonical_folder
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS

# Runs an import in a child process that kills itself (SIGKILL: no clean-up, no rollback
# code runs) right after the third file has landed, inside the open transaction.
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import empowered.sources.landing as landing
    import empowered.sources.importer as importer
    from empowered.warehouse.connection import open_warehouse
    from empowered.keys import Keys

    landed = []
    real = landing.land_csv

    def land_then_die(*args, **kwargs):
        batch = real(*args, **kwargs)
        landed.append(batch)
        if len(landed) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    importer.land_csv = land_then_die
    con = open_warehouse(sys.argv[1])
    importer.import_canonical_folder(con, Path(sys.argv[2]), keys=Keys("k", "s", (bytes(32),)))
    """
)


def counts(path: Path) -> tuple[int, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        batches = con.execute("SELECT count(*) FROM meta.batches").fetchone()
        pupils = con.execute("SELECT count(*) FROM raw.canonical_pupils").fetchone()
    finally:
        con.close()
    assert batches is not None and pupils is not None
    return int(batches[0]), int(pupils[0])


def test_a_killed_import_leaves_nothing_and_a_rerun_completes(
    small_trust: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    open_warehouse(warehouse).close()  # an empty warehouse with its layout
    child = subprocess.run(
        [sys.executable, "-c", KILLER, str(warehouse), str(small_trust)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    # Three files had landed inside the transaction; none of it survived the kill.
    con = open_warehouse(warehouse)
    try:
        assert con.execute("SELECT count(*) FROM meta.batches").fetchone() == (0,)
        result = import_canonical_folder(con, small_trust, keys=TEST_KEYS)
    finally:
        con.close()
    # One batch per canonical file of the trust: one per entity.
    files = len(ENTITIES)
    assert len(result.batches) == files and not any(b.already_loaded for b in result.batches)
    batches, pupils = counts(warehouse)
    assert batches == files and pupils > 0
