"""Benchmark: how fast the synthetic generator makes a trust, and with how much memory.

The scaling runs (issue 17) need trusts of 1,500 to 120,000 pupils made in minutes. For
each size (``--pupils`` and ``--schools`` pair up in order) and each ``--workers`` count,
this makes the trust into benchmarks/output/ and prints the seconds, the processor
seconds of the whole process tree (this process, the fork server, the workers), the rows
written and rows a second, the peak memory of the tree (proportional set size, so pages
the processes share are counted once; sampled every 0.2 s) and the load average before
and after (another job on the machine slows it down).

    python benchmarks/generate.py --pupils 12000 --schools 20
    python benchmarks/generate.py --pupils 1500 12000 120000 --schools 3 20 200 --workers 1 2

The trust is deleted after each run unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from empowered.synth import generate_trust

OUTPUT = Path(__file__).resolve().parent / "output"
SAMPLE_SECONDS = 0.2
TICKS = os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _stat(pid: int) -> tuple[int, int]:
    """(parent pid, processor ticks used) from /proc/<pid>/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _memory_kib(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        key = "Pss:"
    except OSError:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        key = "VmRSS:"
    return next((int(line.split()[1]) for line in lines if line.startswith(key)), 0)


@dataclass
class TreeSampler:
    """Peak memory and processor time of this process and everything it starts."""

    root: int = field(default_factory=os.getpid)
    peak_kib: int = 0
    ticks: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _tree(self) -> list[int]:
        parents: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = _stat(int(entry.name))[0]
                except OSError:
                    continue  # ended while we looked
                parents.setdefault(parent, []).append(int(entry.name))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(parents.get(pid, []))
        return tree

    def sample(self) -> None:
        total = 0
        for pid in self._tree():
            try:
                total += _memory_kib(pid)
                self.ticks[pid] = _stat(pid)[1]
            except OSError:
                continue
        self.peak_kib = max(self.peak_kib, total)

    def run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.sample()
        self.own_seconds = time.thread_time()  # the sampling's own, left out of the figure

    def __enter__(self) -> TreeSampler:
        self.before_ticks = _stat(self.root)[1]  # imports and earlier runs
        self.own_seconds = 0.0
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def cpu_seconds(self) -> float:
        return (sum(self.ticks.values()) - self.before_ticks) / TICKS - self.own_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, nargs="+", default=[12000])
    parser.add_argument("--schools", type=int, nargs="+", default=[20])
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[0], help="0: one per core (the default)"
    )
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-year", type=int, default=2025)
    parser.add_argument("--keep", action="store_true", help="keep the trusts made")
    args = parser.parse_args()
    if len(args.pupils) != len(args.schools):
        parser.error("give as many --schools as --pupils (they pair up in order)")
    print(f"{os.cpu_count()} cores; load {load()}")
    print(
        f"{'pupils':>8} {'schools':>7} {'workers':>7} {'seconds':>8} {'cpu s':>7} "
        f"{'rows':>12} {'rows/s':>10} {'peak MiB':>8} {'disk MiB':>8}  load before -> after"
    )
    for pupils, schools in zip(args.pupils, args.schools, strict=True):
        for workers in args.workers:
            out = OUTPUT / f"generate-{pupils}-{schools}-{workers}"
            shutil.rmtree(out, ignore_errors=True)
            before = load()
            with TreeSampler() as tree:
                started = time.perf_counter()
                summary = generate_trust(
                    out,
                    schools=schools,
                    pupils=pupils,
                    years=args.years,
                    seed=args.seed,
                    first_academic_year=args.first_year,
                    workers=workers or None,
                )
                seconds = time.perf_counter() - started
            rows = sum(summary.counts.values())
            disk = sum(p.stat().st_size for p in out.iterdir()) / 2**20
            print(
                f"{pupils:>8,} {schools:>7} {workers or 'cores':>7} {seconds:>8.1f} "
                f"{tree.cpu_seconds:>7.1f} {rows:>12,} {rows / seconds:>10,.0f} "
                f"{tree.peak_kib / 1024:>8,.0f} {disk:>8,.0f}  {before} -> {load()}",
                flush=True,
            )
            if not args.keep:
                shutil.rmtree(out)


if __name__ == "__main__":
    main()
