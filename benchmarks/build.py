"""Benchmark: a full warehouse build on a trust-sized dataset.

Generates a synthetic trust (20 schools, 12,000 pupils, one year) once into
benchmarks/output/, imports it into a fresh warehouse, then times a full build and prints
rows per table, seconds per layer and the process's peak memory (DuckDB runs in process,
so this includes it). For each staging model it also prints the ratio of its time to the
time DuckDB needs just to read the columns it reads from its input tables: what the
model adds to a bare scan.

    python benchmarks/build.py [--schools 20] [--pupils 12000] [--years 1] [--seed 1]
    python benchmarks/build.py --reuse WAREHOUSE [--layers staging,quarantine]

``--reuse`` copies an already imported warehouse instead of generating and importing
(the copy is built; the original is left alone), ``--layers`` builds only those layers.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from empowered.settings import get_settings
from empowered.sources.importer import import_canonical_folder
from empowered.synth import generate_trust
from empowered.warehouse.build import build_duckdb, prepare
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import Model, discover_models
from empowered.warehouse.runner import BuildResult, run_models

OUTPUT = Path(__file__).resolve().parent / "output"
# The benchmark warehouses are encrypted with the keys in this file (made on first run).
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))


def peak_memory_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def columns_read(model: Model) -> dict[str, set[str]]:
    """The columns a model reads from each table it reads (``*``: all of them)."""
    reads: dict[str, set[str]] = defaultdict(set)
    tree = sqlglot.parse_one(model.sql, read="duckdb")
    for scope in traverse_scope(tree):
        tables = {
            alias: f"{source.db}.{source.name}"
            for alias, source in scope.sources.items()
            if isinstance(source, exp.Table) and source.db
        }
        only = next(iter(tables.values())) if len(scope.sources) == 1 and tables else None
        for column in scope.columns:
            table = tables.get(column.table) if column.table else only
            if table:
                reads[table].add(column.name)
        if only and any(isinstance(s, exp.Star) for s in scope.expression.expressions):
            reads[only].add("*")
    return reads


def bare_read_seconds(con: duckdb.DuckDBPyConnection, model: Model) -> float:
    """Seconds to scan just the input columns the model reads. ``min`` of each column, not
    ``count``: a count needs only the null mask, a minimum reads every value."""
    seconds = 0.0
    for table, columns in sorted(columns_read(model).items()):
        counts = (
            "min(COLUMNS(*))"
            if "*" in columns
            else ", ".join(f'min("{c}")' for c in sorted(columns))
        )
        started = time.perf_counter()
        con.execute(f"SELECT {counts} FROM {table}").fetchall()
        seconds += time.perf_counter() - started
    return seconds


def build_layers(con: duckdb.DuckDBPyConnection, layers: list[str]) -> BuildResult:
    prepare(con)
    models = discover_models()
    selected = [name for name, model in models.items() if model.layer in layers]
    return run_models(DuckDBEngine(con), models, con, select=selected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=12_000)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", type=Path, help="an imported warehouse to copy and build")
    parser.add_argument("--layers", help="comma-separated layers to build (default: all)")
    args = parser.parse_args()
    layers = args.layers.split(",") if args.layers else None

    if args.reuse:
        warehouse = OUTPUT / "benchmark-reuse.duckdb"
        Path(f"{warehouse}.wal").unlink(missing_ok=True)  # left by an interrupted run
        shutil.copy(args.reuse, warehouse)
        con = open_warehouse(warehouse)
        report(con, layers)
        return

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

    report(con, layers)


def report(con: duckdb.DuckDBPyConnection, layers: list[str] | None) -> None:
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    started = time.perf_counter()
    result = build_layers(con, layers) if layers else build_duckdb(con)
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
        rows = "view" if getattr(r.model, "view", False) else f"{r.rows or 0:,}"
        print(f"  {r.model.name:<45} {rows:>12} {r.seconds:7.2f}s")
    print("\nstaging against a bare read of its inputs:")
    print(f"  {'model':<45} {'model':>8} {'bare read':>10} {'ratio':>7}")
    for r in sorted(result.results, key=lambda r: -r.seconds):
        if r.model.layer != "staging":
            continue
        bare = bare_read_seconds(con, r.model)
        ratio = r.seconds / bare if bare else float("nan")
        print(f"  {r.model.name:<45} {r.seconds:7.2f}s {bare:9.3f}s {ratio:7.1f}")
    print(f"\npeak memory: {peak_memory_mib():,.0f} MiB")
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
