"""Benchmark: a full warehouse build on a trust-sized dataset.

Generates a synthetic trust (20 schools, 12,000 pupils, one year) once into
benchmarks/output/, imports it into a fresh warehouse, then times a full build and prints
rows per table, seconds per layer and the process's peak memory (DuckDB runs in process,
so this includes it).

    python benchmarks/build.py [--schools 20] [--pupils 12000] [--years 1] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from empowered.settings import get_settings
from empowered.sources.importer import import_canonical_folder
from empowered.synth import generate_trust
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse

OUTPUT = Path(__file__).resolve().parent / "output"
# The benchmark warehouses are encrypted with the keys in this file (made on first run).
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))


def peak_memory_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=12_000)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    data = OUTPUT / f"trust-{args.schools}x{args.pupils}x{args.years}-seed{args.seed}"
    if not (data / "manifest.json").exists():
        started = time.perf_counter()
        generate_trust(
            data, schools=args.schools, pupils=args.pupils, years=args.years, seed=args.seed
        )
        print(f"generated the trust in {time.perf_counter() - started:.1f}s -> {data}")

    warehouse = OUTPUT / "benchmark.duckdb"
    warehouse.unlink(missing_ok=True)
    con = open_warehouse(warehouse)
    started = time.perf_counter()
    imported = import_canonical_folder(con, data, keys=get_settings().keys())
    import_seconds = time.perf_counter() - started
    print(
        f"import: {imported.rows_landed:,} rows in {import_seconds:.1f}s "
        f"({imported.rows_landed / import_seconds:,.0f} rows/s)"
    )

    started = time.perf_counter()
    result = build_duckdb(con)
    build_seconds = time.perf_counter() - started
    if not result.ok:
        for failure in result.failures():
            print(failure.message)
        raise SystemExit("build failed")

    print(f"\nfull build: {build_seconds:.1f}s, {len(result.results)} models")
    for layer, seconds in result.seconds_by_layer().items():
        print(f"  {layer:<11} {seconds:7.1f}s")
    print("\nrows per table:")
    for r in sorted(result.results, key=lambda r: r.model.name):
        print(f"  {r.model.name:<45} {r.rows or 0:>12,} {r.seconds:7.2f}s")
    print(f"\npeak memory: {peak_memory_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
