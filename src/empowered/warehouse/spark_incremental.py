"""Rebuilding part of a model on Spark: the lake's counterpart of DuckDB's IncrementalWriter.

The runner chooses how much of each model to rebuild (empowered.warehouse.rebuild) in
the same way for both engines, and the SQL of a partial rebuild is rewritten in the same
way (empowered.warehouse.incremental: each input read only where its column holds a
changed value). What differs is the writing: the lake's files are never changed. The
rows a rebuild replaces (the changed pupils', batches' or keys' rows) are found in the
table's files; only the files holding some of them are written again, with their other
rows and the new rows, into this build's folder (split by school and year as every
model's is). The table's new entry names those files and keeps every other: a school the
change did not reach, and every school's past years, keep their files.

The change passed downstream is found as DuckDB's is: every row replaced and every row
written is hashed, the hashes counted on each side, and the rows whose counts differ give
the changed values of the tracked columns. The same sums move the table's digest on, so
the whole table is never scanned for it; a rebuild that changed nothing writes nothing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from empowered.warehouse.changes import BATCH_COLUMN, WHOLE, Change
from empowered.warehouse.checks import Check
from empowered.warehouse.incremental import (
    REF_COLUMN,
    WRITTEN,
    Partitions,
    _in_changed,
    _naming_sql,
    _new_keys_sql,
    _since_table,
    _values_table,
    restrict_check,
    restrict_inputs,
)
from empowered.warehouse.lake import TableEntry
from empowered.warehouse.models import Model

if TYPE_CHECKING:
    from empowered.warehouse.spark import LakeSparkEngine

# A table whose files outnumber its folders by this many times (rows of new pupils added
# beside a folder's older file, day after day) is written again whole.
FILES_PER_FOLDER = 4


# Python's types of changed values, as Spark types (bool before int, datetime before date:
# each is a subclass of the other).
_SPARK_TYPES = (
    (bool, "boolean"),
    (int, "bigint"),
    (float, "double"),
    (Decimal, "decimal(38,9)"),
    (datetime, "timestamp"),
    (date, "date"),
)


def _spark_type(values: Sequence[Any]) -> str:
    """The Spark type of a list of changed values, from the first that is not NULL."""
    first = next((v for v in values if v is not None), None)
    return next((name for kind, name in _SPARK_TYPES if isinstance(first, kind)), "string")


def digest_text(rows: int, total: Any) -> str:
    """A table's digest: its row count and the sum of its rows' hashes (0 when empty)."""
    return f"{int(rows)}:{int(total or 0)}"


def moved_digest(digest: str, rows: int, total: Any) -> str:
    """A digest moved on by the rows added less those removed (their count and the sum
    of their hashes); empty (not known) when the digest was not."""
    held_rows, _, held_total = digest.partition(":")
    if not (held_rows.lstrip("-").isdigit() and held_total.lstrip("-").isdigit()):
        return ""
    return digest_text(int(held_rows) + rows, int(held_total) + int(total or 0))


def _quoted(column: str) -> Any:
    from pyspark.sql import functions as F

    return F.col(f"`{column}`")


class SparkIncrementalWriter:
    """Partial rebuilds of models on the lake, for one Spark build."""

    def __init__(self, engine: LakeSparkEngine, tracked: Collection[str]) -> None:
        self.engine = engine
        self.spark = engine.spark
        self.tracked = tuple(sorted(set(tracked)))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # Nothing to commit model by model: the build commits once, in the lake's log.
        yield

    def save(self) -> None:
        return None

    def restrict_check(self, check: Check, model: Model, rows: str) -> str:
        return restrict_check(check, model, rows)

    def columns(self, table: str) -> list[str]:
        entry = self.engine.entry(table)
        return list(entry.columns) if entry is not None else []

    def forget(self, table: str) -> None:
        return None

    def is_view(self, name: str) -> bool:
        entry = self.engine.entry(name)
        return entry is not None and entry.view

    def keep_before(self, table: str) -> bool:
        # A full rebuild is compared by the table's digest (LakeSparkEngine.fingerprint).
        return False

    def compare_with_before(self, table: str) -> Change | None:
        return WHOLE

    def _set_values(self, column: str, values: Collection[Any]) -> None:
        ordered = sorted(values, key=lambda v: (v is None, v))
        frame = self.spark.createDataFrame([(v,) for v in ordered], f"v {_spark_type(ordered)}")
        frame.createOrReplaceTempView(_values_table(column))

    def _sql(self, sql: str) -> Any:
        from empowered.warehouse.spark import lake_sql

        return self.spark.sql(lake_sql(sql))

    def view_rows(self, model: Model, column: str, values: Collection[Any]) -> None:
        self._set_values(column, values)
        where = _in_changed(column).sql("duckdb")
        self._sql(f"SELECT * FROM {model.name} WHERE {where}").createOrReplaceTempView(WRITTEN)

    def batches_naming(self, source: str, refs: Collection[str]) -> set[int]:
        self._set_values(REF_COLUMN, refs)
        found = self._sql(_naming_sql(source, _values_table(REF_COLUMN))).collect()
        return {int(row[0]) for row in found}

    def by_partition(self, model: Model, part: Partitions, *, exact: bool = True) -> Change | None:
        """The rows of the partitions ``part`` names, computed again from the matching rows
        of the inputs (IncrementalWriter.by_partition)."""
        self._set_values(part.column, part.values)
        if part.since is not None:
            since_column, first, lookback = part.since
            start = first - (timedelta(days=lookback) if isinstance(first, date) else lookback)
            kind = _spark_type([first])
            bounds = self.spark.createDataFrame(
                [(start, first)], f"read_from {kind}, write_from {kind}"
            )
            bounds.createOrReplaceTempView(_since_table(since_column))
        inputs, read_since, where = part.plan(model, self.columns)
        restricted = restrict_inputs(model.sql, inputs, read_since)
        new = self._sql(f"SELECT * FROM ({restricted}) AS m WHERE {where}")
        old = self._old_rows(model)
        old.createOrReplaceTempView("_old_rows")
        marked = self._sql(f"SELECT *, coalesce({where}, false) AS _replaced FROM _old_rows")
        return self._replace(model, marked, new, compare=exact)

    def by_batch(self, model: Model, source: str, batches: Collection[int]) -> Change | None:
        """The rows of ``batches`` typed and validated again, and the current row worked
        out again for every natural key they (or the rows they replace) hold."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        self._set_values(BATCH_COLUMN, batches)
        typed = self._sql(restrict_inputs(model.sql, {source: BATCH_COLUMN})).localCheckpoint()
        old = self._old_rows(model)
        in_batches = F.col(BATCH_COLUMN).isin(sorted(batches))
        key = list(model.natural_key)
        renamed = [F.col(f"`{k}`").alias(f"_k{i}") for i, k in enumerate(key)]
        keys = (
            typed.select(*renamed)
            .unionByName(old.where(in_batches).select(*renamed))
            .distinct()
            .withColumn("_hit", F.lit(True))
        )
        match = [old[f"`{k}`"].eqNullSafe(keys[f"_k{i}"]) for i, k in enumerate(key)]
        marked = (
            old.join(keys, match, "left")
            .withColumn("_replaced", F.coalesce(F.col("_hit"), F.lit(False)))
            .drop("_hit", *[f"_k{i}" for i in range(len(key))])
        )
        # Every row of a touched key, with the batches' rows as typed now: the current row
        # by the rule of the shared staging ending (templates/validated_rows.sql).
        columns = list(self.columns(model.name))
        rows = (
            marked.where(F.col("_replaced") & ~in_batches).select(*map(_quoted, columns))
        ).unionByName(typed)
        accepted = F.col("_reject_reason").isNull()
        order = Window.partitionBy(*map(_quoted, key), accepted).orderBy(
            F.col(BATCH_COLUMN).desc(), F.col("_source_row").desc()
        )
        rows = rows.withColumn(
            "_is_current", F.coalesce(accepted & (F.row_number().over(order) == 1), F.lit(False))
        )
        return self._replace(model, marked, rows, compare=True)

    def new_keys(self, model: Model, batches: Collection[int]) -> Change | None:
        """The rows for keys first seen in ``batches``, added beside the table's files."""
        self._set_values(BATCH_COLUMN, batches)
        inputs = {
            t: BATCH_COLUMN
            for t in model.sources
            if t.startswith("raw.") and BATCH_COLUMN in self.columns(t)
        }
        new = self._sql(_new_keys_sql(model.sql, inputs, model.name, model.unique_key))
        made = self._replace(model, None, new, compare=True)
        return None if made is None else Change(keys=made.keys, appended_only=True)

    def _old_rows(self, model: Model) -> Any:
        """The table as the lake holds it, each row with the file it is in."""
        from pyspark.sql import functions as F

        entry = self.engine.entry(model.name)
        assert entry is not None and entry.files, model.name
        paths = [str(self.engine.lake.path(f)) for f in entry.files]
        frame = self.spark.read.parquet(*paths).withColumn("_file", F.input_file_name())
        return frame.select(*map(_quoted, entry.columns), "_file")

    def _replace(self, model: Model, marked: Any, new: Any, *, compare: bool) -> Change | None:
        """Replace the rows ``marked`` ``_replaced`` (none: ``marked`` is None) with ``new``.

        One job finds the rows that differ (by a hash of each row, counted on each side),
        the changed values of the tracked columns, how the table's digest moves and the
        files holding rows replaced; a second writes those files' other rows with the new
        ones. Without ``compare`` the change is reported whole and written either way."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        entry = self.engine.entry(model.name)
        assert entry is not None
        columns = list(entry.columns)
        new = new.select(*map(_quoted, columns)).localCheckpoint()
        tracked = [c for c in self.tracked if c in columns]
        row_hash = F.xxhash64(*map(_quoted, columns)).alias("_h")
        no_file = F.lit(None).cast("string").alias("_file")
        after = new.select(row_hash, F.lit(1).alias("_sign"), no_file, *map(_quoted, tracked))
        both = after
        if marked is not None:
            before = marked.where("_replaced").select(
                row_hash, F.lit(-1).alias("_sign"), "_file", *map(_quoted, tracked)
            )
            both = before.unionByName(after)
        differs = F.sum("_sign").over(Window.partitionBy("_h")) != 0
        both = both.withColumn("_differs", differs)
        found = [
            F.sum("_sign").alias("_rows"),
            F.sum(F.col("_sign") * F.col("_h").cast("decimal(38,0)")).alias("_total"),
            F.collect_set("_file").alias("_files"),
            F.count(F.when(F.col("_differs"), 1)).alias("_changed"),
        ]
        for i, column in enumerate(tracked):
            found.append(F.collect_set(F.when(F.col("_differs"), _quoted(column))).alias(f"_v{i}"))
            found.append(
                F.count(F.when(F.col("_differs") & _quoted(column).isNull(), 1)).alias(f"_n{i}")
            )
        [summary] = both.agg(*found).collect()
        new.createOrReplaceTempView(WRITTEN)  # what the model's checks look at
        if compare and not summary["_changed"]:
            self.engine.keep(model)  # the same rows: no file written, the token kept
            return None
        replaced = sorted(summary["_files"] or [])
        self._write(model, entry, marked, new, replaced, summary)
        if not compare:
            return WHOLE
        keys: dict[str, frozenset[Any]] = {}
        for i, column in enumerate(tracked):
            values = set(summary[f"_v{i}"] or [])
            if summary[f"_n{i}"]:
                values.add(None)
            keys[column] = frozenset(values)
        return Change(keys=keys)

    def _write(
        self,
        model: Model,
        entry: TableEntry,
        marked: Any,
        new: Any,
        replaced: Sequence[str],
        summary: Any,
    ) -> None:
        """Write the replaced files' other rows with ``new``, and name the new files in the
        table's entry beside the files kept."""
        from pyspark.sql import functions as F

        known = {os.path.abspath(self.engine.lake.path(f)): f for f in entry.files}
        replaced_files = set()
        for uri in replaced:
            path = os.path.abspath(unquote(urlparse(uri).path))
            if path not in known:  # keeping it as well would hold its rows twice
                raise RuntimeError(f"{model.name}: rows read from {uri}, not a file of the table")
            replaced_files.add(known[path])
        kept = [f for f in entry.files if f not in replaced_files]
        folders = {tuple(f.split("/")[3:-1]) for f in entry.files}
        columns = list(map(_quoted, entry.columns))
        if len(kept) > FILES_PER_FOLDER * len(folders):
            # Too many small files (new pupils' rows added beside a folder's older file,
            # day after day): the whole table is written again, one file a folder.
            if marked is None:
                marked = self._old_rows(model).withColumn("_replaced", F.lit(False))
            out = marked.where(~F.col("_replaced")).select(*columns).unionByName(new)
            kept = []
        elif marked is None:
            out = new
        else:
            out = (
                marked.where(F.col("_file").isin(list(replaced)) & ~F.col("_replaced"))
                .select(*columns)
                .unionByName(new)
            )
        files = tuple(sorted({*kept, *self.engine.write(model, out)}))
        if not files:  # every row gone: one empty file, so the table keeps its columns
            files = tuple(self.engine.write(model, out, empty=True))
        moved = int(summary["_rows"] or 0)
        self.engine.rewritten(
            model,
            dataclasses.replace(
                entry,
                files=files,
                rows=entry.rows + moved if entry.rows >= 0 else -1,
                digest=moved_digest(entry.digest, moved, summary["_total"]),
            ),
        )
