"""Build a lake on a Spark standalone cluster on this machine, and compare it with DuckDB.

A real cluster master, not local mode: a standalone master and one worker are started
from the PySpark install (``bin/spark-class``), so the driver, the master and the
executors are separate JVMs talking over the network, as on a cluster of machines. The
build is the same command line as anywhere, with only ``--master`` changed:

    python benchmarks/spark_standalone.py [--pupils 1500]

A synthetic trust but its last day is imported and built by DuckDB and its sources
published to a new lake; the cluster builds the lake in full, again with nothing
changed, and after the last day's check-ins are imported and published. After each
build a copy of the warehouse served from the lake must read every model's table exactly
as DuckDB built it. Prints seconds, models rebuilt, and what differs (nothing).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(spark_home: Path, logs: Path, *args: str) -> subprocess.Popen[bytes]:
    log = (logs / f"{args[0].rsplit('.', 1)[-1]}.log").open("wb")
    return subprocess.Popen(
        [str(spark_home / "bin" / "spark-class"), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for(port: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise RuntimeError(f"nothing answered on port {port}")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.9g}") if abs(value) > 1e-12 else 0.0
    return value


def _differing(duck: duckdb.DuckDBPyConnection, served: duckdb.DuckDBPyConnection) -> list[str]:
    from empowered.warehouse.models import discover_models

    found = []
    for table in sorted(discover_models()):
        rows = [
            Counter(tuple(map(_plain, r)) for r in c.execute(f"SELECT * FROM {table}").fetchall())
            for c in (duck, served)
        ]
        if rows[0] != rows[1]:
            found.append(table)
    return found


def _compare(con: duckdb.DuckDBPyConnection, lake: Any, work: Path) -> list[str]:
    """Every model's table, served from the lake by a copy of the warehouse, against the
    warehouse's own DuckDB build."""
    from empowered.warehouse.connection import open_warehouse
    from empowered.warehouse.lake_attach import attach

    con.execute("CHECKPOINT")
    served_path = work / "served.duckdb"
    served_path.unlink(missing_ok=True)
    shutil.copy(work / "warehouse.duckdb", served_path)
    served = open_warehouse(served_path)
    try:
        attach(served, lake)
        return _differing(con, served)
    finally:
        served.close()


def _build(spark: Any, lake: Any, kind: str) -> None:
    from empowered.warehouse.spark import build_spark

    started = time.perf_counter()
    result = build_spark(spark, lake)
    seconds = time.perf_counter() - started
    partial = sum(r.message.startswith("incremental") for r in result.results)
    outcome = "ok" if result.ok else [r.message for r in result.failures()][:3]
    print(
        f"{kind}: {len(result.results)} models ({partial} in part) in {seconds:.0f}s, {outcome}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cores", type=int, default=2, help="the worker's")
    parser.add_argument("--memory", default="3g", help="the worker's, and each executor's")
    args = parser.parse_args()

    import pyspark
    from last_day import split_last_day
    from scale import generate, import_base, trust_folder

    from empowered.imports import run_import
    from empowered.settings import get_settings
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse
    from empowered.warehouse.lake import Lake
    from empowered.warehouse.lake_publish import publish
    from empowered.warehouse.spark import spark_session

    spark_home = Path(pyspark.__file__).parent
    work = Path(tempfile.mkdtemp(prefix="empowered-standalone-"))
    port = _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    master = _start(
        spark_home, work, "org.apache.spark.deploy.master.Master",
        "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(_free_port()),
    )  # fmt: skip
    worker = _start(
        spark_home, work, "org.apache.spark.deploy.worker.Worker", master_url,
        "--cores", str(args.cores), "--memory", args.memory, "--webui-port", str(_free_port()),
    )  # fmt: skip
    try:
        generate(args.pupils, args.seed)
        base, days = work / "base", work / "days"
        split_last_day(trust_folder(args.pupils, args.seed), base, days)
        con = open_warehouse(work / "warehouse.duckdb")
        import_base(con, base)
        assert build_duckdb(con).ok
        lake = Lake(work / "lake")
        publish(con, lake)
        _wait_for(port)
        # Everything but the master from Spark's own configuration, as on any cluster.
        (work / "spark-defaults.conf").write_text(
            f"spark.executor.memory {args.memory}\nspark.executor.cores {args.cores}\n"
        )
        os.environ["SPARK_CONF_DIR"] = str(work)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python
        spark = spark_session(master_url, work)
        print(f"master {master_url}, app {spark.sparkContext.applicationId}", flush=True)
        _build(spark, lake, "full")
        print(f"  tables differing from DuckDB's: {_compare(con, lake, work) or 'none'}")
        _build(spark, lake, "nothing changed")
        # A day of check-ins, imported (DuckDB's own incremental build) and published.
        run_import(con, [days / "observations" / "observations.csv"], keys=get_settings().keys())
        publish(con, lake)
        _build(spark, lake, "a day of check-ins")
        print(f"  tables differing from DuckDB's: {_compare(con, lake, work) or 'none'}")
        spark.stop()
        con.close()
    finally:
        for process in (worker, master):
            process.terminate()
            process.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
