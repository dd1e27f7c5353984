"""Benchmark: how long the rebuild after a pupil chosen on the import page takes.

Copies a built trust-sized warehouse (``--warehouse``, e.g. benchmarks/output/
benchmark-built.duckdb) to a scratch file, brings it up to date with this code (a build;
models edited since it was built are rebuilt in full), then runs an incremental build
with nothing new (the floor), and finally chooses the pupil for one way of naming a pupil
that matched several (or none) and times the build that follows. A choice changes the
pupil references, which every pupil-linked staging model reads as a lookup, so those are
rebuilt in full (STAGING.md: a changed lookup falls back to a full rebuild). Prints each
step's seconds, the slowest models and the load average.

    EMPOWERED_KEY_FILE=benchmarks/output/benchmark.keys \\
        python benchmarks/pupil_match.py --warehouse benchmarks/output/benchmark-built.duckdb
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from empowered.pupil_matches import Choice, choose
from empowered.settings import get_settings
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.runner import BuildResult

OUTPUT = Path(__file__).resolve().parent / "output"
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def slowest(result: BuildResult, n: int = 6) -> str:
    ran = sorted(result.results, key=lambda r: r.seconds, reverse=True)[:n]
    return "; ".join(f"{r.model.name} {r.seconds:.2f}s ({r.message or 'full'})" for r in ran)


def built(result: BuildResult) -> None:
    for failure in result.failures():
        print(f"FAILED {failure.model.name}: {failure.message}")
    assert result.ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="empowered-match-") as scratch:
        copy = Path(scratch) / "warehouse.duckdb"
        shutil.copy(args.warehouse, copy)
        con = open_warehouse(copy)
        started = time.perf_counter()
        built(build_duckdb(con, touched=set()))
        print(f"brought up to date: {time.perf_counter() - started:.1f} s (load {load()})")
        started = time.perf_counter()
        built(build_duckdb(con, touched=set()))
        print(f"incremental build, nothing new: {time.perf_counter() - started:.2f} s")
        found = con.execute(
            "SELECT ref_key, school_urn FROM staging.stg_canonical_pupil_refs "
            "WHERE can_choose ORDER BY ref_key LIMIT 1"
        ).fetchone()
        if found is None:
            print("no row names a pupil who matched none or several: nothing to choose")
            return
        ref_key, school = str(found[0]), str(found[1])
        [(pupil,)] = con.execute(
            "SELECT min(pupil_key) FROM staging.stg_canonical_pupil_roll WHERE school_urn = ?",
            [school],
        ).fetchall()
        started = time.perf_counter()
        saved = choose(
            con, Choice(school, ref_key, str(pupil), "app-user-0"), keys=get_settings().keys()
        )
        seconds = time.perf_counter() - started
        ok = "ok" if saved.build.ok else "FAILED"
        print(f"pupil chosen, landed and built: {seconds:.2f} s, {ok} (load {load()})")
        print(f"  slowest: {slowest(saved.build)}")
        con.close()


if __name__ == "__main__":
    main()
