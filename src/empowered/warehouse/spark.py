"""Running the same models on Apache Spark.

The warehouse's source tables (raw and reference) are exported from DuckDB to Parquet and
registered in Spark as external tables in databases named like our schemas; then the
runner drives the same model graph through the Spark engine, every statement transpiled
by sqlglot. PySpark is an optional extra: ``pip install 'empowered[spark]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from empowered.warehouse.build import prepare
from empowered.warehouse.engines import SparkEngine
from empowered.warehouse.models import SOURCE_SCHEMAS, Model, discover_models
from empowered.warehouse.runner import BuildResult, ProgressCallback, run_models


class SparkUnavailable(RuntimeError):
    pass


def spark_session(master: str = "local[2]", workdir: Path | None = None) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:  # pragma: no cover - depends on the install
        raise SparkUnavailable(
            "PySpark is not installed: pip install 'empowered[spark]' (needs Java 17+)"
        ) from err
    builder = (
        SparkSession.builder.master(master)
        .appName("empowered")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if workdir is not None:
        builder = builder.config("spark.sql.warehouse.dir", str(workdir / "spark-warehouse"))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def export_sources(con: duckdb.DuckDBPyConnection, spark: Any, workdir: Path) -> list[str]:
    """Copy every raw and reference table to Parquet and register it in Spark."""
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1, 2",
        [list(SOURCE_SCHEMAS)],
    ).fetchall()
    registered = []
    for schema, name in tables:
        target = workdir / "sources" / schema / f"{name}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        location = str(target).replace("'", "''")
        con.execute(f"COPY {schema}.{name} TO '{location}' (FORMAT parquet)")
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
        spark.sql(f"DROP TABLE IF EXISTS {schema}.{name}")
        spark.sql(f"CREATE TABLE {schema}.{name} USING parquet LOCATION '{location}'")
        registered.append(f"{schema}.{name}")
    return registered


def build_spark(
    con: duckdb.DuckDBPyConnection,
    spark: Any,
    workdir: Path,
    *,
    progress: ProgressCallback | None = None,
    models: dict[str, Model] | None = None,
) -> BuildResult:
    """Build every model on Spark from the warehouse's current raw data.

    Run records go to the DuckDB warehouse's meta schema with engine 'spark'.
    """
    prepare(con)
    export_sources(con, spark, workdir)
    models = models or discover_models()
    return run_models(SparkEngine(spark), models, con, progress=progress)
