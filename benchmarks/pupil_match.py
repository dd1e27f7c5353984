"""Benchmark: how long the rebuild after a pupil chosen on the import page takes.

Copies a built trust-sized warehouse (``--warehouse``, e.g. benchmarks/output/
benchmark-built.duckdb) to a scratch file, brings it up to date with this code (a build;
models edited since it was built are rebuilt in full), then runs an incremental build
with nothing new (the floor). It lands one check-in naming a pupil of the trust's files
(``--trust``) by name only, as a forms export may, and times that import's build (the
row is quarantined: a name only is never matched); finally it chooses the pupil for it
and times the build that follows. A choice changes one pupil reference, which every
pupil-linked staging model reads as a lookup: each re-reads only the batches with a row
naming that reference (empowered.warehouse.rebuild). Prints each step's seconds, the
slowest models and the load average.

    EMPOWERED_KEY_FILE=benchmarks/output/benchmark.keys \\
        python benchmarks/pupil_match.py --warehouse benchmarks/output/benchmark-built.duckdb \\
        --trust benchmarks/output/trust-20x12000x1-seed1
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
import time
from pathlib import Path

from empowered.pupil_matches import Choice, choose
from empowered.settings import get_settings
from empowered.sources.canonical import ENTITIES
from empowered.sources.landing import prepare_records, write_batch
from empowered.sources.records import SourceRecord
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
    parser.add_argument("--trust", type=Path, default=OUTPUT / "trust-20x12000x1-seed1")
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
        with (args.trust / "pupils.csv").open(newline="", encoding="utf-8") as handle:
            pupil = next(p for p in csv.DictReader(handle) if not p["leaving_date"])
        keys = get_settings().keys()
        record = SourceRecord(
            "observations",
            {
                "observation_id": "BENCH-MATCH-1",
                "school_urn": pupil["school_urn"],
                "observed_on": pupil["entry_date"],
                "mood": "3",
                "pupil_name": f"{pupil['forename']} {pupil['surname']}",
            },
            2,
        )
        batch = prepare_records(
            "bench-match.csv", "bench-match", "forms", ENTITIES["observations"], [record],
            keys=keys,
        )  # fmt: skip
        con.execute("BEGIN TRANSACTION")
        write_batch(con, batch)
        con.execute("COMMIT")
        started = time.perf_counter()
        result = build_duckdb(con, touched={"raw.canonical_observations"})
        built(result)
        print(f"one row naming a pupil by name only, built: {time.perf_counter() - started:.2f} s")
        print(f"  slowest: {slowest(result)}")
        [(ref_key, school)] = con.execute(
            "SELECT ref_key, school_urn FROM staging.stg_canonical_pupil_refs WHERE can_choose"
        ).fetchall()
        [(pupil_key,)] = con.execute(
            "SELECT min(pupil_key) FROM staging.stg_canonical_pupil_roll AS r "
            "WHERE school_urn = ? AND name_bidx = split_part(?, '|', 4)",
            [school, ref_key],
        ).fetchall()
        started = time.perf_counter()
        saved = choose(
            con, Choice(str(school), str(ref_key), str(pupil_key), "app-user-0"), keys=keys
        )
        seconds = time.perf_counter() - started
        ok = "ok" if saved.build.ok else "FAILED"
        print(f"pupil chosen, landed and built: {seconds:.2f} s, {ok} (load {load()})")
        print(f"  slowest: {slowest(saved.build)}")
        [(accepted,)] = con.execute(
            "SELECT count(*) FROM staging.stg_canonical_observations "
            "WHERE observation_id = 'BENCH-MATCH-1' AND _reject_reason IS NULL"
        ).fetchall()
        print(f"the row accepted after the choice: {'yes' if accepted else 'NO'}")
        con.close()


if __name__ == "__main__":
    main()
