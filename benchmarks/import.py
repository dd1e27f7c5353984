"""Benchmark: importing a trust's files, and one school day of new observations.

Prints rows per second for canonical CSV import, for MIS-style CSV and CTF XML import
through their readers, and the seconds from dropping one school day of new observations
to updated warehouse tables (an incremental rebuild of only what the new rows touch).

    python benchmarks/import.py [--schools 20] [--pupils 12000] [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import time
from pathlib import Path

from empowered.imports import ImportOutcome, run_import
from empowered.settings import get_settings
from empowered.synth import generate_trust
from empowered.synth.school_formats.base import CanonicalTrust
from empowered.synth.school_formats.ctf import write_ctf
from empowered.synth.school_formats.mis import write_mis_exports
from empowered.warehouse.connection import open_warehouse

OUTPUT = Path(__file__).resolve().parent / "output"
# The benchmark warehouses are encrypted with the keys in this file (made on first run).
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))


def rate(rows: int, seconds: float) -> str:
    return f"{rows:,} rows in {seconds:.1f}s = {rows / seconds:,.0f} rows/s"


def report(label: str, rows: int, seconds: float, outcome: ImportOutcome) -> None:
    build = sum(r.seconds for r in outcome.build.results) if outcome.build else 0.0
    print(f"{label}: read + land {rate(rows, seconds - build)}; then build {build:.1f}s")


def one_day_of_observations(trust: Path, out: Path) -> tuple[Path, int]:
    """The trust's observations from its last school day, re-sent under new ids."""
    with (trust / "observations.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        fields = reader.fieldnames or []
    last_day = max(r["observed_on"] for r in rows)
    day = [
        r | {"observation_id": "NEW-" + r["observation_id"]}
        for r in rows
        if r["observed_on"] == last_day
    ]
    out.mkdir(parents=True, exist_ok=True)
    path = out / "observations.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(day)
    return path, len(day)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    data = OUTPUT / f"trust-{args.schools}x{args.pupils}x1-seed{args.seed}"
    if not (data / "manifest.json").exists():
        generate_trust(data, schools=args.schools, pupils=args.pupils, seed=args.seed)
    work = OUTPUT / "import-bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    con = open_warehouse(work / "w.duckdb")
    started = time.perf_counter()
    outcome = run_import(con, [data], keys=get_settings().keys())
    report("canonical CSV", outcome.result.rows_landed, time.perf_counter() - started, outcome)

    canonical = CanonicalTrust(data)
    schools = [r["school_urn"] for r in canonical.rows("schools")]
    ctf_path, _ = write_ctf(canonical, work / "ctf", school_urn=schools[0], seed=1)
    mis_paths, _ = write_mis_exports(
        canonical, work / "mis", school_urn=schools[1], mis="sims", seed=1
    )
    for label, paths, school in (
        ("CTF XML", [ctf_path], None),
        ("SIMS-style CSV", mis_paths, schools[1]),
    ):
        fresh = open_warehouse(work / f"{label.split()[0].lower()}.duckdb")
        started = time.perf_counter()
        outcome = run_import(fresh, paths, keys=get_settings().keys(), school=school)
        report(label, outcome.result.rows_landed, time.perf_counter() - started, outcome)
        fresh.close()

    path, rows = one_day_of_observations(data, work / "one-day")
    started = time.perf_counter()
    outcome = run_import(con, [path], keys=get_settings().keys())
    seconds = time.perf_counter() - started
    rebuilt = len(outcome.build.results) if outcome.build else 0
    print(
        f"one school day of observations ({rows:,} rows) to updated tables: {seconds:.1f}s "
        f"({rebuilt} models rebuilt)"
    )


if __name__ == "__main__":
    main()
