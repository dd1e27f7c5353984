"""Building the lake on Apache Spark.

Spark reads the sources from the lake's latest snapshot (the app publishes them there:
empowered.warehouse.lake_publish), runs the same models in the same order through the
same runner as DuckDB (every statement transpiled by sqlglot, each table reference
pointed at a temporary view over the lake's files), writes each model's table to a new
folder of the lake split by school (and academic year where a table has one), and
commits one snapshot naming them all when the whole build has passed its checks. A build
that fails or is stopped commits no table: readers go on seeing the last good build.

A build is handed what changed since the lake's models were built (the batches landed,
altered or purged, as the snapshot's ``sources_built`` tells them apart) and rebuilds as
little as DuckDB's incremental build does, through the same runner: the batches, keys,
pupils and days a change reached (empowered.warehouse.spark_incremental writes them), or
a model whole where it must be. A rebuilt table that came out with the same rows keeps
its files and version, and what reads it is not rebuilt for it.
The run and check records go to the lake beside the tables (``_meta/builds``), where the
app reads them into its own ``meta`` (empowered.warehouse.lake_attach).

PySpark is an optional extra: ``pip install 'empowered[spark]'``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from empowered.warehouse.changes import BATCH_COLUMN, WHOLE, Change
from empowered.warehouse.connection import ensure_layout
from empowered.warehouse.engines import check_counts, counting_query
from empowered.warehouse.incremental import PartialWriter, tracked_columns
from empowered.warehouse.lake import Lake, Snapshot, TableEntry
from empowered.warehouse.models import (
    MODEL_LAYERS,
    SOURCE_SCHEMAS,
    Model,
    build_order,
    discover_models,
)
from empowered.warehouse.runner import BuildResult, ProgressCallback, run_models
from empowered.warehouse.spark_incremental import SparkIncrementalWriter, digest_text

# Folder columns, from the first of each group a table has: a page or a query for one
# school reads one folder, and a year's tables sit apart from the next year's.
PARTITIONS = (("_school", ("school_urn", "school_key")), ("_year", ("academic_year",)))
BUILD_RECORDS = "_meta/builds"
KEEP_BUILD_RECORDS = 20


class SparkUnavailable(RuntimeError):
    pass


def spark_session(
    master: str = "local[2]", workdir: Path | None = None, *, memory: str | None = None
) -> Any:
    """A session for the lake's builds. On a cluster only ``master`` (or the platform's own
    session) changes: the lake's folder must be reachable from every executor. ``memory``:
    the driver's heap, which does all the work in local mode (Spark's default is 1 GB)."""
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
        # Timestamps as DuckDB and every Parquet reader expect them (not the legacy INT96),
        # and no marker files beside the tables.
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
    )
    if workdir is not None:
        builder = builder.config("spark.sql.warehouse.dir", str(workdir / "spark-warehouse"))
    if memory is not None:
        builder = builder.config("spark.driver.memory", memory)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def view_name(table: str) -> str:
    """The temporary view a lake table is read through: ``marts.pupil_week`` ->
    ``marts__pupil_week`` (Spark's temporary views have no schema)."""
    schema, name = table.split(".", 1)
    return f"{schema}__{name}"


_SCHEMAS = frozenset((*SOURCE_SCHEMAS, *MODEL_LAYERS))


def lake_sql(sql: str) -> str:
    """One DuckDB statement as Spark SQL over the lake's temporary views."""
    tree = sqlglot.parse_one(sql, read="duckdb")

    def point(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.db in _SCHEMAS and not node.args.get("catalog"):
            alias = node.args.get("alias")
            table = exp.Table(this=exp.to_identifier(view_name(f"{node.db}.{node.name}")))
            if alias is not None:
                table.set("alias", alias)
            return table
        return node

    tree = tree.transform(point)
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def sql_digest(model: Model) -> str:
    return hashlib.sha256(model.sql.encode()).hexdigest()[:32]


def partition_columns(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(folder column, the table's column it copies) for each partition the table has."""
    found = []
    for folder, candidates in PARTITIONS:
        for column in candidates:
            if column in columns:
                found.append((folder, column))
                break
    return found


class LakeSparkEngine:
    """Runs models on Spark over a lake snapshot, writing each table to a new folder."""

    name = "spark"

    def __init__(self, spark: Any, lake: Lake, snapshot: Snapshot, build: str) -> None:
        self.spark = spark
        self.lake = lake
        self.snapshot = snapshot
        self.build = build
        self.written: dict[str, TableEntry] = {}

    def token(self, table: str) -> str:
        entry = self.written.get(table) or self.snapshot.tables.get(table)
        return entry.token if entry is not None else ""

    def register(self, table: str, entry: TableEntry, model: Model | None = None) -> None:
        """Make ``table`` readable to Spark SQL as the lake holds it."""
        if entry.view:
            assert model is not None
            self.spark.sql(lake_sql(model.sql)).createOrReplaceTempView(view_name(table))
            return
        paths = [str(self.lake.path(f)) for f in entry.files]
        frame = self.spark.read.parquet(*paths).select(*entry.columns)
        frame.createOrReplaceTempView(view_name(table))

    def entry(self, table: str) -> TableEntry | None:
        """The table as this build has written it, else as the lake holds it."""
        return self.written.get(table) or self.snapshot.tables.get(table)

    def write(self, model: Model, frame: Any, *, empty: bool = False) -> list[str]:
        """Write rows of ``model`` to this build's folder of it, split into folders by
        school and year; return the files written (none for no rows, unless ``empty``:
        then one file with no rows, so the table still has its columns)."""
        target = str(self.lake.path(self.lake.new_folder(model.name, self.build)))
        if empty:
            frame.limit(0).coalesce(1).write.mode("overwrite").parquet(target)
            return self._files(model)
        parts = partition_columns(tuple(frame.columns))
        out = frame
        for folder_column, column in parts:
            out = out.withColumn(folder_column, out[f"`{column}`"].cast("string"))
        folders = [f for f, _ in parts]
        if folders:
            out.repartition(*folders).write.partitionBy(*folders).parquet(target)
        else:
            out.coalesce(1).write.parquet(target)
        return self._files(model)

    def materialise(self, model: Model) -> int:
        frame = self.spark.sql(lake_sql(model.sql))
        columns = tuple(frame.columns)
        if model.view:
            frame.createOrReplaceTempView(view_name(model.name))
            self.written[model.name] = self._entry(model, columns, view=True)
            return -1
        files = self.write(model, frame)
        folders = [f for f, _ in partition_columns(columns)]
        if not files:  # no rows: one file, so the table still has its columns
            files, folders = self.write(model, frame, empty=True), []
        entry = self._entry(model, columns, files=files, folders=folders)
        self.register(model.name, entry)
        digest = self._digest(model.name, columns)
        entry = dataclasses.replace(entry, rows=self._rows(files), digest=digest)
        held = self.snapshot.tables.get(model.name)
        if (
            held is not None
            and held.digest
            and (held.digest, held.columns)
            == (
                entry.digest,
                entry.columns,
            )
        ):
            # The same rows as the lake holds: keep its files and token, so what reads this
            # table is not rebuilt for it.
            self.keep(model)
            return held.rows
        self.written[model.name] = entry
        return entry.rows

    def keep(self, model: Model) -> None:
        """A rebuild came out with the rows the lake holds: its files and token stay, and
        it is now known to be built from its inputs as they are."""
        held = self.snapshot.tables[model.name]
        self.written[model.name] = self.current(held, model)
        self.register(model.name, held)

    def rewritten(self, model: Model, entry: TableEntry) -> None:
        """A partial rebuild wrote ``entry`` (files kept and files new): a new token."""
        entry = dataclasses.replace(self.current(entry, model), token=self.build)
        self.written[model.name] = entry
        self.register(model.name, entry)

    def current(self, entry: TableEntry, model: Model) -> TableEntry:
        """``entry`` noted as built by ``model``'s SQL from its inputs as they are now."""
        return dataclasses.replace(
            entry,
            sql_digest=sql_digest(model),
            built_from={t: self.token(t) for t in sorted(model.sources | model.depends_on)},
        )

    def _digest(self, table: str, columns: Sequence[str]) -> str:
        """Row count and the sum of every row's hash: one scan of the table written."""
        from pyspark.errors import AnalysisException
        from pyspark.sql import functions as F

        frame = self.spark.table(view_name(table))
        row_hash = F.xxhash64(*[F.col(f"`{c}`") for c in columns])
        try:
            [found] = frame.select(
                F.count(F.lit(1)).alias("n"), F.sum(row_hash.cast("decimal(38,0)")).alias("s")
            ).collect()
        except AnalysisException:  # a column Spark cannot hash (a map): never the same
            return ""
        return digest_text(found["n"], found["s"])

    def _rows(self, files: Sequence[str]) -> int:
        """Rows written, from the files' footers: a Spark job to count them cost a few
        tenths of a second a model."""
        listed = ", ".join("'" + str(self.lake.path(f)).replace("'", "''") + "'" for f in files)
        [(rows,)] = duckdb.execute(
            f"SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata([{listed}])"
        ).fetchall()
        return int(rows)

    def _entry(
        self,
        model: Model,
        columns: tuple[str, ...],
        *,
        files: Sequence[str] = (),
        folders: Sequence[str] = (),
        view: bool = False,
    ) -> TableEntry:
        """What the snapshot keeps of a model built now: with the token of every table it
        read, so a later build knows whether it is still up to date."""
        made = TableEntry(
            files=tuple(files),
            columns=columns,
            rows=-1,
            token=self.build,
            partitioned_by=tuple(folders),
            view=view,
        )
        return self.current(made, model)

    def _files(self, model: Model) -> list[str]:
        root = self.lake.path(self.lake.new_folder(model.name, self.build))
        if not root.is_dir():
            return []
        return sorted(
            p.relative_to(self.lake.root).as_posix()
            for p in root.rglob("*.parquet")
            if not p.name.startswith((".", "_"))  # Spark's own checksums and markers
        )

    def count_offending(self, sqls: Sequence[str]) -> list[int]:
        if not sqls:
            return []
        rows = self.spark.sql(lake_sql(counting_query(sqls))).collect()
        return check_counts([tuple(r) for r in rows], len(sqls))

    def sample_offending(self, sql: str, limit: int) -> list[dict[str, Any]]:
        rows = self.spark.sql(lake_sql(sql)).limit(limit).collect()
        return [r.asDict() for r in rows]

    def fingerprint(self, table: str) -> tuple[Any, ...] | None:
        """The table's digest and columns as written in this build, else as the lake
        holds it (None: not known, so treated as changed)."""
        entry = self.entry(table)
        if entry is None or not entry.digest:
            return None
        return (entry.digest, entry.columns)

    def row_count(self, table: str) -> int:
        entry = self.entry(table)
        if entry is not None and entry.rows >= 0:
            return entry.rows
        return int(self.spark.table(view_name(table)).count())

    def incremental(self, models: Mapping[str, Model]) -> PartialWriter | None:
        return SparkIncrementalWriter(self, tracked_columns(models))


def source_state(entry: TableEntry) -> dict[str, Any]:
    """What a build keeps of a source it read (``Snapshot.sources_built``): its token and,
    for a table landed by batch, each batch's rows and digest."""
    state: dict[str, Any] = {"token": entry.token}
    if BATCH_COLUMN in entry.columns:
        state["batches"] = {b: list(v[:2]) for b, v in entry.batches.items()}
    return state


# Landing bookkeeping: a row per batch, and a batch's row is read only with that batch's
# rows, whose change is passed on. When it only grew (new batches) nothing that read it
# before can change, as in an import's DuckDB build; any other change is whole.
_GROWS_WITH_BATCHES = "meta.batches"


def source_change(table: str, then: Mapping[str, Any], now: Mapping[str, Any]) -> Change | None:
    """How a source changed since the models were built from it, as
    empowered.warehouse.changes.raw_changes says for a DuckDB build: by batch for a table
    landed by batch, new keys for the pseudonyms that only grew, else whole."""
    if then["token"] == now["token"]:
        return None
    if "batches" in then and "batches" in now:
        old, new = then["batches"], now["batches"]
        added = {b for b in new if b not in old}
        altered = {b for b in new if b in old and list(new[b]) != list(old[b])}
        gone = set(old) - set(new)
        return Change(
            keys={BATCH_COLUMN: frozenset(int(b) for b in added | altered | gone)},
            appended_only=not (altered or gone),
        )
    grew = _row_count(now["token"]) > _row_count(then["token"]) >= 0
    if grew and table == _GROWS_WITH_BATCHES:
        return None
    if grew and table.startswith("raw.") and "batches" not in now:
        return Change(appended_only=True)
    return WHOLE


def _row_count(token: str) -> int:
    """Rows of a table published whole, from its token (``rows:digest``); -1 unknown."""
    rows, _, _ = token.partition(":")
    return int(rows) if rows.isdigit() else -1


def changes_since(snapshot: Snapshot, models: Mapping[str, Model]) -> dict[str, Change] | None:
    """What changed since the lake's models were built, as a DuckDB build's changes: each
    source's change (by batch where it can be said so), and a model never built, built from
    other SQL or from other tables than the lake holds now, whole. The runner rebuilds
    what those changes reach. None: build in full."""
    if not any(name in snapshot.tables for name in models):
        return None
    built = snapshot.sources_built
    changes: dict[str, Change] = {}
    for table in sorted({t for m in models.values() for t in m.sources}):
        if table not in built:
            changes[table] = WHOLE
            continue
        change = source_change(table, built[table], source_state(snapshot.tables[table]))
        if change is not None:
            changes[table] = change
    for name, model in models.items():
        entry = snapshot.tables.get(name)
        if entry is None or entry.sql_digest != sql_digest(model):
            changes[name] = WHOLE
            continue
        for table in sorted(model.sources | model.depends_on):
            if table in model.sources:
                token = built.get(table, {}).get("token")
            else:
                token = getattr(snapshot.tables.get(table), "token", None)
            if token is None or entry.built_from.get(table) != token:
                changes[name] = WHOLE
                break
    return changes


def build_spark(
    spark: Any,
    lake: Lake,
    *,
    progress: ProgressCallback | None = None,
    models: dict[str, Model] | None = None,
    full: bool = False,
) -> BuildResult:
    """Build the lake's models on Spark from its latest sources; commit them if every
    model passed. The run's records are committed either way."""
    models = models or discover_models()
    snapshot = lake.current()
    sources = {t for m in models.values() for t in m.sources}
    missing = sorted(sources - set(snapshot.tables))
    if missing:
        raise FileNotFoundError(
            f"{lake.root}: the lake has no {missing[0]} (and {len(missing) - 1} more sources):"
            " publish the warehouse's sources first (empowered lake publish)"
        )
    build = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    engine = LakeSparkEngine(spark, lake, snapshot, build)
    changes = None if full else changes_since(snapshot, models)
    # Nothing changed, nothing to read: a view of every table (its files' footers read)
    # took 10 s of a build that had nothing to do.
    if changes != {}:
        for name, entry in snapshot.tables.items():
            if name not in models:
                engine.register(name, entry)
        for model in build_order(models):
            held = snapshot.tables.get(model.name)
            if held is not None and not full:
                engine.register(model.name, held, model)
    meta = duckdb.connect()  # run ids and records for this build, then kept in the lake
    ensure_layout(meta)
    started = time.time()
    result = run_models(engine, models, meta, changes=changes, progress=progress)
    record = _write_record(lake, build, result, meta, started)
    tables: dict[str, TableEntry] = {}
    if result.ok:
        # Every model is now built from the sources as this build read them.
        for name, model in models.items():
            made = engine.entry(name)
            if made is not None:
                tables[name] = engine.current(made, model)
    built = {t: source_state(snapshot.tables[t]) for t in sources}

    def change(latest: Snapshot) -> Snapshot:
        builds = (*latest.builds, (build, record))[-KEEP_BUILD_RECORDS:]
        sources = built if result.ok else latest.sources_built
        return dataclasses.replace(latest.with_tables(tables), builds=builds, sources_built=sources)

    lake.commit(change)
    return result


def _write_record(
    lake: Lake, build: str, result: BuildResult, meta: duckdb.DuckDBPyConnection, started: float
) -> str:
    """The build's model runs and check results, as the runner recorded them."""
    record: dict[str, Any] = {"build": build, "engine": "spark", "started": started}
    for table in ("model_runs", "check_results"):
        cursor = meta.execute(f"SELECT * FROM meta.{table} ORDER BY ALL")
        names = [d[0] for d in cursor.description or []]
        record[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    relative = f"{BUILD_RECORDS}/{build}.json"
    target = lake.path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(record, default=str), encoding="utf-8")
    return relative
