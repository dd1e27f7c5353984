"""Making a trust's schools in worker processes: ``generate_trust(workers=N)``.

One school's year (synth.school_year) reads nothing another school writes except the row
ids that run across schools: a trust's observations are O00000001, O00000002 ... in school
order, so a school's first id is one more than the last id of the school before it. A
worker makes its school with ids counted from 1. It writes the files without ids
(attendance, assessments ...) straight into a part folder of its own and holds the rows
with ids; once the school is made it takes where its ids start from the school before it
(made already, or being made: schools are handed out in order), hands on to the next school
where its ids will start (an :class:`IdChain` in shared memory), moves its ids up and
writes them. The parent appends each school's part files to the trust's files in school
order, so the files are byte for byte what one process writes, and adds what each school
realised to its planted patterns' records (the manifest reports it).

Memory: a worker holds one school at a time; the parent holds the trust's pupils, as one
process making every school does.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from empowered.synth.attendance import Exclusion
from empowered.synth.patterns import PatternPlan
from empowered.synth.people import Pupil
from empowered.synth.school_year import ID_COLUMNS, ID_SEQUENCES, write_school_year
from empowered.synth.schools import School, Trust
from empowered.synth.through import ThroughSink
from empowered.synth.writer import COLUMNS, CsvSink, file_name

# A chain link's state: where the school's ids start is not known yet, is known, or will
# never be (a school before it failed).
PENDING, READY, FAILED = 0, 1, 2
# Seconds between looks at whether the parent is still there while waiting for the school
# before (a worker left behind by a killed parent must not wait for ever).
WAIT_SLICE = 1.0
DIGITS = "0123456789"
# Below this many pupils one process is as quick: starting workers takes about half a
# second, a 1,500-pupil trust takes a second or two (benchmarks/generate.py).
PARALLEL_FROM_PUPILS = 5000


class WorkerFailed(RuntimeError):
    """A worker process ended without finishing its school (killed, or out of memory)."""


class EarlierSchoolFailed(RuntimeError):
    """A school before this one failed, so where this school's ids start is not known."""


def default_workers(pupils: int) -> int:
    """One process per core this process may run on (a container or ``taskset`` may allow
    fewer than the machine has), for a trust big enough that processes pay for starting."""
    if pupils < PARALLEL_FROM_PUPILS:
        return 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class SchoolYears:
    """What every school's year is made from, besides the school and its pupils."""

    seed: int
    plan: PatternPlan
    permanents: list[Exclusion]
    through: date | None


class IdChain:
    """Where each school's row ids start, handed from school to school across processes.

    Slot ``k`` holds the first id of every sequence for school ``k``; school 0 starts at 1.
    """

    def __init__(self, ctx: BaseContext, schools: int) -> None:
        width = len(ID_SEQUENCES)
        self._starts = ctx.Array("q", [1] * width + [0] * (schools * width), lock=False)
        self._state = ctx.Array("b", [READY] + [PENDING] * schools, lock=False)
        self._changed = ctx.Condition()

    def starts(self, school: int, used: Mapping[str, int]) -> dict[str, int]:
        """Where ``school``'s ids start (waiting for the school before it to say), handing
        on where the next school's start: ``used`` ids further on."""
        width = len(ID_SEQUENCES)
        parent = multiprocessing.parent_process()
        with self._changed:
            while self._state[school] == PENDING:
                if not self._changed.wait(WAIT_SLICE) and parent and not parent.is_alive():
                    raise WorkerFailed("the process that started this worker has ended")
            if self._state[school] == FAILED:
                self._state[school + 1] = FAILED
                self._changed.notify_all()
                raise EarlierSchoolFailed(f"a school before school {school} failed")
            first = {s: self._starts[school * width + i] for i, s in enumerate(ID_SEQUENCES)}
            for i, sequence in enumerate(ID_SEQUENCES):
                self._starts[(school + 1) * width + i] = first[sequence] + used[sequence]
            self._state[school + 1] = READY
            self._changed.notify_all()
        return first

    def failed(self, school: int) -> None:
        """``school`` will not say where the next school's ids start."""
        with self._changed:
            if self._state[school + 1] == PENDING:
                self._state[school + 1] = FAILED
            self._changed.notify_all()

    def broken_before(self, school: int) -> bool:
        with self._changed:
            return bool(self._state[school] == FAILED)


class HoldingSink(CsvSink):
    """Writes rows without ids to ``sink`` at once and holds the rows with ids."""

    def __init__(self, sink: CsvSink) -> None:
        super().__init__(sink.out_dir)
        self.sink = sink
        self.held: list[tuple[str, Mapping[str, Sequence[Any]]]] = []

    def write(self, entity: str, columns: Mapping[str, Sequence[Any]]) -> int:
        if entity not in ID_COLUMNS:
            return self.sink.write(entity, columns)
        self.held.append((entity, columns))
        return len(columns[COLUMNS[entity][0]])


def moved_ids(
    entity: str, columns: Mapping[str, Sequence[Any]], first: Mapping[str, int]
) -> Mapping[str, Sequence[Any]]:
    """``columns`` with every id counted from 1 moved up to start at ``first``."""
    moved = dict(columns)
    for column, sequence in ID_COLUMNS[entity].items():
        if first[sequence] != 1:
            moved[column] = _moved(columns[column], first[sequence] - 1)
    return moved


def _moved(values: Sequence[str], by: int) -> Sequence[str]:
    # The ids of a sequence are its letters and a number zero-padded to a width
    # ("PL000012"); zfill pads to the width and leaves a number too big for it whole, as
    # the format does. (Twice as fast as formatting each number again.)
    sample = next((v for v in values if v), None)
    if sample is None:
        return values
    k = len(sample.rstrip(DIGITS))
    prefix, width = sample[:k], len(sample) - k
    return [prefix + str(int(v[k:]) + by).zfill(width) if v else v for v in values]


@dataclass(frozen=True)
class SchoolPart:
    """One school's files, made by a worker, ready to be appended to the trust's."""

    school: int
    folder: Path
    rows: dict[str, int]  # entity -> data rows in its part file
    realised: dict[int, dict[str, Any]]  # plan.records position -> fields added or changed


# Set in each worker process when it starts (_start_worker).
_job: SchoolYears | None = None
_chain: IdChain | None = None
_dropped: dict[str, set[str]] = {}
_parts: Path = Path()


def _start_worker(
    job: SchoolYears, chain: IdChain, dropped: dict[str, set[str]], parts: Path
) -> None:
    global _job, _chain, _dropped, _parts
    _job, _chain, _dropped, _parts = job, chain, dropped, parts


def _make_school(school: School, members: list[Pupil]) -> SchoolPart:
    """In a worker: make one school's year into its part folder."""
    job, chain = _job, _chain
    assert job is not None and chain is not None, "worker not started by write_in_workers"
    k = school.index
    try:
        if chain.broken_before(k):
            raise EarlierSchoolFailed(f"a school before school {k} failed")
        mine = [i for i, rec in enumerate(job.plan.records) if rec.school == k]
        before = {i: dict(job.plan.records[i].fields) for i in mine}
        folder = _parts / f"school-{k:05d}"
        folder.mkdir()
        through = job.through
        with CsvSink(folder) if through is None else ThroughSink(folder, through, _dropped) as sink:
            holding = HoldingSink(sink)
            next_ids = dict.fromkeys(ID_SEQUENCES, 1)
            write_school_year(
                holding, job.seed, school, members, job.plan, job.permanents, next_ids, job.through
            )
            first = chain.starts(k, {s: next_ids[s] - 1 for s in ID_SEQUENCES})
            for entity, columns in holding.held:
                sink.write(entity, moved_ids(entity, columns, first))
            rows = {entity: sink.counts[file_name(entity)] for entity in COLUMNS}
    except BaseException:
        chain.failed(k)
        raise
    realised = {
        i: {
            key: value
            for key, value in job.plan.records[i].fields.items()
            if key not in before[i] or before[i][key] is not value
        }
        for i in mine
    }
    return SchoolPart(k, folder, rows, realised)


def write_in_workers(
    sink: CsvSink, job: SchoolYears, trust: Trust, by_school: list[list[Pupil]], workers: int
) -> None:
    """Every school's year, made by ``workers`` processes, appended to ``sink`` in order."""
    ctx = _context()
    chain = IdChain(ctx, len(trust.schools))
    dropped = sink.dropped if isinstance(sink, ThroughSink) else {}
    # The parts sit beside the trust's files, not in a temporary folder that may be memory.
    with tempfile.TemporaryDirectory(prefix=".schools-", dir=sink.out_dir) as parts:
        pool = ProcessPoolExecutor(
            workers, ctx, initializer=_start_worker, initargs=(job, chain, dropped, Path(parts))
        )
        try:
            futures = [
                pool.submit(_make_school, school, members)
                for school, members in zip(trust.schools, by_school, strict=True)
            ]
            for future in futures:
                _append(sink, job, _result(future, len(trust.schools), sink.out_dir))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _result(future: Future[SchoolPart], schools: int, out_dir: Path) -> SchoolPart:
    try:
        return future.result()
    except BrokenProcessPool as err:
        raise WorkerFailed(
            f"A process making the trust's {schools} schools stopped before it finished "
            "(it was killed, or the machine ran out of memory). The files in "
            f"{out_dir} are incomplete: delete them and run again, with fewer workers "
            "(one worker uses the least memory)."
        ) from err


def _append(sink: CsvSink, job: SchoolYears, part: SchoolPart) -> None:
    for entity, rows in part.rows.items():
        if rows:
            sink.append_file(entity, part.folder / file_name(entity), rows)
    for i, fields in part.realised.items():
        job.plan.records[i].fields.update(fields)
    shutil.rmtree(part.folder)


def _context() -> BaseContext:
    # A fork server rather than forking the caller, which may be running threads (a web
    # app, DuckDB's); it starts with the school code imported, so workers start quickly.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["empowered.synth.parallel"])
        return ctx
    return multiprocessing.get_context("spawn")
