"""Schools made in worker processes give the same bytes as one process (synth.parallel),
a trust of 200 schools can be made at all, and a worker killed mid-run stops the run with
a plain message instead of a hang or a silently short file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from empowered.synth import generate_trust
from empowered.synth.school_year import ID_COLUMNS, ID_SEQUENCES
from empowered.synth.writer import COLUMNS

SRC = str(Path(__file__).resolve().parents[2] / "src")
# Ids that name something outside the school year's files (a member of staff, the MIS's
# own pupil number), not rows numbered across schools.
NOT_NUMBERED = {"staff_id", "mis_id"}
CLI = "import sys; from empowered.cli import app; app(sys.argv[1:], prog_name='empowered')"


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def _assert_same_files(first: Path, second: Path) -> None:
    one, two = _files(first), _files(second)
    assert one.keys() == two.keys()
    for name in one:
        assert one[name] == two[name], name


def test_workers_write_the_bytes_one_process_writes(synth_trust: Any, tmp_path: Path) -> None:
    # synth_trust (3 schools, 600 pupils) is made in this process (below 5,000 pupils).
    parallel = generate_trust(tmp_path / "two", schools=3, pupils=600, seed=7, workers=2)
    _assert_same_files(synth_trust.dir, parallel.out_dir)
    # Ids run across schools: the last school's first observation is not O00000001.
    ids = [line.split(",")[0] for line in (parallel.out_dir / "observations.csv").open()]
    assert len(set(ids)) == len(ids)
    assert not [p for p in parallel.out_dir.iterdir() if p.name.startswith(".")]


def test_workers_cut_off_at_a_day_write_the_same_bytes(tmp_path: Path) -> None:
    # A trust cut off at a day (synth.through) leaves out pupils not yet joined, which the
    # workers' own sinks must leave out too, and plans, enrolments and what hangs off them.
    args: dict[str, Any] = {
        "schools": 3,
        "pupils": 300,
        "seed": 5,
        "years": 2,
        "through": date(2026, 12, 4),
    }
    one = generate_trust(tmp_path / "one", workers=1, **args)
    three = generate_trust(tmp_path / "three", workers=3, **args)
    _assert_same_files(one.out_dir, three.out_dir)
    assert one.counts == three.counts


def test_every_numbered_id_column_is_moved_by_the_workers() -> None:
    # A new id column left out of ID_COLUMNS would be counted from 1 in every school.
    for entity, columns in COLUMNS.items():
        numbered = {c for c in columns if c.endswith("_id") and c not in NOT_NUMBERED}
        assert numbered == set(ID_COLUMNS.get(entity, {})), entity
    assert {s for cols in ID_COLUMNS.values() for s in cols.values()} == set(ID_SEQUENCES)


def test_a_trust_of_200_schools_gets_its_schools(tmp_path: Path) -> None:
    # 200 schools need more than the thousand 2xxx establishment numbers (five feeder
    # primaries each): the numbers were drawn until a free one came, for ever.
    script = (
        "from empowered.synth.schools import build_trust\n"
        "trust = build_trust(1, 200, 2000, 2025, 1)\n"
        "keys = {(s.la_code, s.estab) for s in trust.schools}\n"
        "feeders = {(s.la_code, f) for s in trust.schools for f in s.feeder_estabs}\n"
        "print(len(trust.schools), len(keys), len(keys | feeders))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert done.returncode == 0, done.stderr
    schools, distinct, with_feeders = map(int, done.stdout.split())
    # Each school's number, and every feeder's, is unique within its LA.
    assert schools == distinct == 200 and with_feeders == 200 * 6


def test_too_many_schools_for_the_establishment_numbers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="more establishment numbers"):
        generate_trust(tmp_path, schools=1200, pupils=12000)


def _descendants(root: int) -> dict[int, int]:
    """pid -> depth below ``root`` of every process under it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    depth: dict[int, int] = {}
    for pid in parents:
        d, p = 0, pid
        while p in parents and p != root:
            p, d = parents[p], d + 1
        if p == root:
            depth[pid] = d
    return depth


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers in /proc")
def test_a_killed_worker_stops_the_run_with_a_plain_message(tmp_path: Path) -> None:
    out = tmp_path / "trust"
    run = subprocess.Popen(
        [sys.executable, "-c", CLI, "synth", "--out", str(out)]
        + ["--schools", "8", "--pupils", "4000", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC, "COLUMNS": "120"},
    )
    # The workers are forked by the fork server the run starts: two levels below it.
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while not workers and time.monotonic() < deadline and run.poll() is None:
        workers = [pid for pid, d in _descendants(run.pid).items() if d == 2]
        time.sleep(0.02)
    assert workers, "no worker process seen"
    os.kill(workers[0], signal.SIGKILL)
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 1, output
    said = " ".join(output.split())  # as the terminal wrapped it
    assert "stopped before it finished" in said and "fewer workers" in said
    assert "Traceback" not in output
    # The schools' part files went with the run.
    assert not [p for p in out.iterdir() if p.name.startswith(".schools-")]
