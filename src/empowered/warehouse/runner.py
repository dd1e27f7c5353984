"""Builds the warehouse: runs models in dependency order, checks each, records every run.

A model whose error-severity check fails is marked failed and everything downstream of it
is skipped, so a broken dimension never silently feeds a mart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from empowered.identity import withhold_identity
from empowered.warehouse.changes import WHOLE, Change, merge
from empowered.warehouse.checks import Check
from empowered.warehouse.engines import Engine
from empowered.warehouse.following import Following
from empowered.warehouse.incremental import PartialWriter, restrict_check
from empowered.warehouse.models import Model, build_order
from empowered.warehouse.rebuild import rebuild
from empowered.warehouse.uniqueness import proven_unique

SAMPLE_ROWS = 5


@dataclass(frozen=True)
class CheckResult:
    model: str
    check: Check
    failing_rows: int
    sample: list[dict[str, Any]]

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0

    def describe(self) -> str:
        lines = [
            f"{self.model}: check {self.check.name} found {self.failing_rows} offending row(s)"
        ]
        lines += [f"    {json.dumps(row, default=str)}" for row in self.sample]
        return "\n".join(lines)


@dataclass
class ModelResult:
    model: Model
    status: str  # ok | failed | error | skipped
    rows: int | None = None
    seconds: float = 0.0
    message: str = ""
    checks: list[CheckResult] = field(default_factory=list)


@dataclass
class BuildResult:
    run_id: int
    engine: str
    results: list[ModelResult]
    # A build run with ``stop_on_error`` that stopped at a model's error: what it wrote is
    # to be rolled back, and its runs recorded after (``record_runs``).
    stopped: bool = False
    # The build before this one was killed part-way (``meta.build_in_progress``), so this
    # one rebuilt in full.
    after_interrupted: bool = False
    finished: list[tuple[ModelResult, datetime]] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    def failures(self) -> list[ModelResult]:
        return [r for r in self.results if r.status in ("failed", "error")]

    def seconds_by_layer(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for r in self.results:
            totals[r.model.layer] = totals.get(r.model.layer, 0.0) + r.seconds
        return totals


ProgressCallback = Callable[[ModelResult, int, int], None]


def _run_checks(
    engine: Engine,
    model: Model,
    written: str | None = None,
    writer: PartialWriter | None = None,
    proven: bool = False,
) -> list[CheckResult]:
    """Run a model's checks; after a partial rebuild (``written``: the table of rows it
    wrote), the checks that look at rows one at a time look only at those. A unique key
    ``proven`` by the SQL from its inputs' checks (empowered.warehouse.uniqueness) is not
    checked again."""
    restrict = writer.restrict_check if writer is not None else restrict_check
    run = [c for c in model.checks if not (c.kind == "unique" and proven)]
    sqls = [c.sql if written is None else restrict(c, model, written) for c in run]
    counts = engine.count_offending(sqls)
    return [
        CheckResult(model.name, check, count, _sample(engine, sql, count))
        for check, sql, count in zip(run, sqls, counts, strict=True)
    ]


def _sample(engine: Engine, sql: str, count: int) -> list[dict[str, Any]]:
    """A few offending rows to show a person, with pupil identity withheld."""
    if not count:
        return []
    return [withhold_identity(row) for row in engine.sample_offending(sql, SAMPLE_ROWS)]


def insert_rows(meta: duckdb.DuckDBPyConnection, table: str, rows: list[list[Any]]) -> None:
    """Many rows in one statement, a list per column: one INSERT per row costs milliseconds
    each, and a placeholder per value (thousands, for a build's checks) took 20-30 ms."""
    if not rows:
        return
    columns = [list(column) for column in zip(*rows, strict=True)]
    unnested = ", ".join(["unnest(?)"] * len(columns))
    meta.execute(f"INSERT INTO {table} SELECT {unnested}", columns)


def _record(
    meta: duckdb.DuckDBPyConnection,
    run_id: int,
    engine: str,
    done: list[tuple[ModelResult, datetime]],
) -> None:
    """Record every model run and check of a build (each with when it finished), in a few
    statements once the build has run."""
    runs: list[list[Any]] = []
    checks: list[list[Any]] = []
    for r, now in done:
        runs.append(
            [run_id, r.model.name, r.model.layer, engine, r.status, r.rows, r.seconds, r.message]
            + [now]
        )
        checks += [
            [
                run_id,
                c.model,
                c.check.name,
                c.check.severity,
                "pass" if c.passed else "fail",
                c.failing_rows,
                json.dumps(c.sample, default=str) if c.sample else None,
                now,
            ]
            for c in r.checks
        ]
    insert_rows(meta, "meta.model_runs", runs)
    insert_rows(meta, "meta.check_results", checks)


def record_runs(meta: duckdb.DuckDBPyConnection, result: BuildResult) -> None:
    _record(meta, result.run_id, result.engine, result.finished)


def next_run_id(meta: duckdb.DuckDBPyConnection) -> int:
    row = meta.execute("SELECT nextval('meta.run_seq')").fetchone()
    assert row is not None
    return int(row[0])


def run_models(
    engine: Engine,
    models: Mapping[str, Model],
    meta: duckdb.DuckDBPyConnection,
    *,
    select: Iterable[str] | None = None,
    changes: Mapping[str, Change] | None = None,
    progress: ProgressCallback | None = None,
    stop_on_error: bool = False,
) -> BuildResult:
    """Run the selected models (default: all) in dependency order, with their checks.

    With ``stop_on_error`` (a build in one transaction, which an error aborts), the first
    model that raises stops the build: the models after it are skipped and nothing is
    recorded, for the caller to roll back and then ``record_runs``.

    With ``changes`` (how source tables changed since the last build: new batches, purged
    rows, a model never built), a model runs only when something it reads changed, and as
    little of it as its header allows (empowered.warehouse.incremental); it passes on the
    change it made, so rows that came out the same stop the cascade.
    """
    selected = set(select) if select is not None else set(models)
    order = [m for m in build_order(models) if m.name in selected]
    changed: dict[str, Change] | None = dict(changes) if changes is not None else None
    writer = engine.incremental(models) if changed is not None else None
    # Only changes some model (or its checks) can use are worked out exactly.
    following = Following(models)
    settled: set[str] = set()  # rebuilt (or passed over) in this build
    run_id = next_run_id(meta)
    broken: set[str] = set()
    passed: set[str] = set()  # built and checked in this run, without a failed check
    results: list[ModelResult] = []
    finished: list[tuple[ModelResult, datetime]] = []
    stopped_at: str | None = None
    for index, model in enumerate(order, start=1):
        inputs: dict[str, Change] = {}
        if changed is not None:
            reads = sorted(model.sources | model.depends_on)
            inputs = {t: changed[t] for t in reads if t in changed}
            if model.name not in changed and not inputs:
                continue
        upstream_broken = sorted(model.depends_on & broken)
        if stopped_at is not None:
            result = ModelResult(model, "skipped", message=f"the build stopped at {stopped_at}")
        elif upstream_broken:
            result = ModelResult(model, "skipped", message=f"upstream failed: {upstream_broken[0]}")
            broken.add(model.name)
        else:
            started = time.perf_counter()
            try:
                # An incremental build commits each model's rebuild once (see
                # IncrementalWriter.transaction); a full build writes a table a statement.
                with writer.transaction() if writer is not None else nullcontext():
                    written = None
                    if changed is None:
                        rows: int | None = engine.materialise(model)
                        how = ""
                    elif writer is None:
                        # An engine that rebuilds only whole tables (Spark on the lake):
                        # what reads this one is rebuilt after it, unless it came out
                        # as it was.
                        before = engine.fingerprint(model.name)
                        rows = engine.materialise(model)
                        how = "full"
                        if before is not None and before == engine.fingerprint(model.name):
                            changed.pop(model.name, None)
                            how = "full, unchanged"
                        else:
                            changed[model.name] = WHOLE
                    else:
                        # A table emptied directly before the build (a purge) stays changed
                        # even when its rebuild comes out as it was left.
                        own = changed.get(model.name)
                        made, how, written = rebuild(
                            writer,
                            engine,
                            model,
                            inputs,
                            own,
                            followed=following.worth_comparing(model.name, changed, settled),
                        )
                        if made is not None or own is not None:
                            changed[model.name] = merge(c for c in (own, made) if c is not None)
                        else:
                            changed.pop(model.name, None)
                        rows = engine.row_count(model.name) if not model.view else None
                    if model.view:
                        rows = None  # a view holds no rows of its own: counting would read them
                    # A view's rows, and a table's written in full, are exactly its SQL's.
                    proven = (model.view or written is None) and proven_unique(
                        model, models, passed
                    )
                    checks = _run_checks(engine, model, written, writer, proven)
            except Exception as err:  # any engine error is reported against its model
                result = ModelResult(model, "error", message=f"{type(err).__name__}: {err}")
                broken.add(model.name)
                if changed is not None:
                    changed[model.name] = WHOLE
                if stop_on_error:
                    stopped_at = model.name
            else:
                failed = [c for c in checks if not c.passed and c.check.severity == "error"]
                status = "failed" if failed else "ok"
                message = "\n".join(c.describe() for c in failed) or how
                result = ModelResult(model, status, rows, 0.0, message, checks)
                if failed:
                    broken.add(model.name)
                else:
                    passed.add(model.name)
            result.seconds = time.perf_counter() - started
        settled.add(model.name)
        results.append(result)
        finished.append((result, datetime.now()))
        if progress:
            progress(result, index, len(order))
    if stopped_at is not None:
        return BuildResult(run_id, engine.name, results, stopped=True, finished=finished)
    if writer is None:
        _record(meta, run_id, engine.name, finished)
    else:
        with writer.transaction():
            _record(meta, run_id, engine.name, finished)
            writer.save()
    return BuildResult(run_id, engine.name, results)
