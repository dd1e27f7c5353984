"""Where models run. DuckDB is the default; Spark runs the same SQL after sqlglot transpiles it.

An engine only knows how to materialise a model's SELECT as a table and how to run a
check query; the runner owns ordering, checks and bookkeeping, so both engines are driven
by exactly the same code path.
"""

from __future__ import annotations

from typing import Any, Protocol

import duckdb
import sqlglot

from empowered.warehouse.models import Model


class Engine(Protocol):
    name: str

    def materialise(self, model: Model) -> int:
        """Create or replace the model's table from its SQL; return its row count."""
        ...

    def offending_rows(self, sql: str, sample: int) -> tuple[int, list[dict[str, Any]]]:
        """Run a check query; return how many rows it returned and the first few."""
        ...


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def materialise(self, model: Model) -> int:
        self.con.execute(f"CREATE OR REPLACE TABLE {model.name} AS\n{model.sql}")
        row = self.con.execute(f"SELECT count(*) FROM {model.name}").fetchone()
        return int(row[0]) if row else 0

    def offending_rows(self, sql: str, sample: int) -> tuple[int, list[dict[str, Any]]]:
        row = self.con.execute(f"SELECT count(*) FROM ({sql}) AS offending").fetchone()
        count = int(row[0]) if row else 0
        if not count:
            return 0, []
        cursor = self.con.execute(f"SELECT * FROM ({sql}) AS offending LIMIT {int(sample)}")
        names = [d[0] for d in cursor.description or []]
        return count, [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def to_spark_sql(sql: str) -> str:
    """Transpile one DuckDB-dialect statement to Spark SQL, failing loudly on anything odd."""
    statements = sqlglot.transpile(
        sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE
    )
    if len(statements) != 1:
        raise ValueError("expected exactly one SQL statement")
    return statements[0]


class SparkEngine:
    """Runs models on a SparkSession; tables live in Spark databases named like our schemas."""

    name = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def materialise(self, model: Model) -> int:
        schema = model.layer
        self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
        self.spark.sql(f"DROP TABLE IF EXISTS {model.name}")
        self.spark.sql(f"CREATE TABLE {model.name} USING parquet AS\n{to_spark_sql(model.sql)}")
        return int(self.spark.table(model.name).count())

    def offending_rows(self, sql: str, sample: int) -> tuple[int, list[dict[str, Any]]]:
        frame = self.spark.sql(to_spark_sql(sql))
        count = int(frame.count())
        rows = [r.asDict() for r in frame.limit(sample).collect()] if count else []
        return count, rows
