"""Benchmark: making each document of issue 16 on the trust-sized warehouse.

Uses the trust-sized warehouse benchmarks/web.py keeps built in benchmarks/output/ (20
schools, 12,000 pupils, one year; made on first run) with what staff enter in the app
landed and built on top (plans, reviews, provision, visitors' reports, concerns: the demo's
writers, for the school the demo accounts work at), kept beside it between runs (made again
when the package changes). ``--small`` does the same with a small trust (3 schools, 600
pupils) to try it quickly; ``--warehouse`` times an already built warehouse (read only).

Each document is made as the command line's operator makes it (``documents.asking.ask_for``
with no user, then ``documents.registry.make_document``), for the pupil with the most
reviews and provision and for that pupil's school, in a fresh process of its own:

- **cold**: the first document that process makes (imports, WeasyPrint, the school's
  analytics): what one ``empowered report ...`` command costs;
- **warm**: the median of ``--repeat`` more in the same process: what the web app, which
  keeps its analytics cached, costs.

It prints seconds, pages (a spreadsheet's rows) and the targets the issue sets (a parent
report under 2 seconds, the trust review pack under 30) beside them, with the load average
before and after. A document whose module is not written yet is reported as "not built
yet". ``--output FILE.json`` also writes the figures. It exits 1 only when a document
fails to be made; a missed target is printed, not failed (this is a benchmark, not a test).

    python benchmarks/documents.py [--small] [--schools 20] [--pupils 12000] [--seed 1]
        [--repeat 3] [--only parent,profile,...] [--warehouse BUILT.duckdb]
        [--output FILE.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "output"
PACKAGE = HERE.parent / "src" / "empowered"
SMALL = {"schools": 3, "pupils": 600}  # the test suite's small trust (tests/conftest.py)


@dataclass(frozen=True)
class Job:
    name: str  # what --only names it by
    label: str
    kind: str  # access.documents.DocumentKind
    format: str
    target_seconds: float | None  # the ("Done when"); None: it sets none


JOBS: tuple[Job, ...] = (
    Job("parent", "parent report", "parent", "pdf", 2.0),
    Job("profile", "one-page profile", "profile", "pdf", None),
    Job("ehc", "EHC evidence pack", "ehc-evidence", "pdf", None),
    Job("ehc-xlsx", "EHC evidence pack", "ehc-evidence", "xlsx", None),
    Job("school-pack", "school review pack", "review-pack", "pdf", None),
    Job("trust-pack", "trust review pack", "trust-review-pack", "pdf", 30.0),
    Job("trust-pack-xlsx", "trust review pack", "trust-review-pack", "xlsx", 30.0),
)


@dataclass(frozen=True)
class Timing:
    job: str
    status: str  # made | not built yet | failed
    cold_seconds: float | None = None
    warm_seconds: float | None = None  # median of the repeats
    pages: int | None = None
    error: str | None = None


# -- The warehouse ------------------------------------------------------------------------


def _stamp(base: Path) -> str:
    """The base warehouse's stamp and every app service the demo's writers call: a change
    lands the records again."""
    digest = hashlib.sha256(base.with_suffix(".stamp").read_bytes())
    for path in sorted(PACKAGE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def with_app_records(schools: int, pupils: int, seed: int) -> Path:
    """benchmarks/web.py's warehouse for this trust, with the app's records landed and
    built (kept in benchmarks/output/ while the package is unchanged)."""
    os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))
    sys.path.insert(0, str(HERE))
    from empowered.demo import DEMO_SEED, create_demo_accounts
    from empowered.settings import get_settings
    from empowered.synth.app_sources import land_demo_records
    from empowered.warehouse.connection import open_warehouse
    from web import built_warehouse  # benchmarks/web.py: the trust, imported and built

    base = built_warehouse(schools, pupils, 1, seed)
    path = OUTPUT / f"documents-{schools}x{pupils}x1-seed{seed}.duckdb"
    stamp_file, stamp = path.with_suffix(".stamp"), _stamp(base)
    if path.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return path
    stamp_file.unlink(missing_ok=True)
    shutil.copy(base, path)
    started = time.perf_counter()
    con = open_warehouse(path)
    create_demo_accounts(con)
    built = land_demo_records(con, keys=get_settings().keys(), today=date.today(), seed=DEMO_SEED)
    con.close()
    if built is None or not built.ok:
        raise SystemExit("landing the app's records failed: see `empowered demo` for why")
    stamp_file.write_text(stamp)
    print(f"landed and built the app's records in {time.perf_counter() - started:.1f} s")
    return path


def subjects(warehouse: Path) -> tuple[str, str]:
    """The pupil with the most reviews and provision (the fullest documents) and their
    school, as tests/documents/conftest.py picks them."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = con.execute(
            """SELECT r.pupil_key, r.school_urn FROM core.fct_review_meeting AS r
               JOIN core.fct_provision_enrolment AS e USING (pupil_key)
               GROUP BY ALL ORDER BY count(DISTINCT r.meeting_id) DESC, count(*) DESC, 1
               LIMIT 1"""
        ).fetchone()
    finally:
        con.close()
    if not found:
        raise SystemExit("no pupil with reviews and provision: the app's records are missing")
    return str(found[0]), str(found[1])


# -- One document, in a process of its own --------------------------------------------------


def time_one(job: Job, warehouse: Path, pupil: str, school: str, repeat: int) -> Timing:
    """Runs in the child: the first document, then ``repeat`` more."""
    import duckdb

    from empowered.access.documents import DOCUMENT_RULES, DocumentKind
    from empowered.documents.asking import ask_for
    from empowered.documents.registry import make_document
    from empowered.settings import get_settings

    kind = DocumentKind(job.kind)
    about_pupil = DOCUMENT_RULES[kind].about == "pupil"
    con = duckdb.connect(str(warehouse), read_only=True)

    def once() -> tuple[float, int]:
        started = time.perf_counter()
        ask = ask_for(
            con,
            kind,
            job.format,
            scope=None,
            made_on=date.today(),
            pupil_key=pupil if about_pupil else None,
            school_urn=None if about_pupil else school,
            keys=get_settings().keys(),
        )
        made = make_document(con, ask)
        return time.perf_counter() - started, made.pages

    try:
        cold, pages = once()
        warm = [once()[0] for _ in range(repeat)]
    except NotImplementedError:
        return Timing(job.name, "not built yet")
    except Exception as err:  # reported, not raised: the other documents still run
        return Timing(job.name, "failed", error=f"{type(err).__name__}: {str(err)[:200]}")
    finally:
        con.close()
    median = statistics.median(warm) if warm else None
    return Timing(job.name, "made", cold, median, pages)


def in_child(job: Job, warehouse: Path, pupil: str, school: str, repeat: int) -> Timing:
    """``time_one`` in a fresh interpreter (this script with ``--child``): cold is cold."""
    env = os.environ | {"EMPOWERED_WAREHOUSE": str(warehouse)}  # its keys, if beside it
    args = [sys.executable, str(Path(__file__).resolve()), "--child", job.name]
    args += ["--warehouse", str(warehouse), "--pupil", pupil, "--school", school]
    args += ["--repeat", str(repeat)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        error = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return Timing(job.name, "failed", error=f"exit {done.returncode}: {error}")
    return Timing(**json.loads(lines[-1]))


# -- Printing -----------------------------------------------------------------------------


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _seconds(value: float | None) -> str:
    return f"{value:8.2f}" if value is not None else " " * 8


def _against(job: Job, t: Timing) -> str:
    if job.target_seconds is None or t.cold_seconds is None or t.warm_seconds is None:
        return "" if job.target_seconds is None else f"target < {job.target_seconds:g} s"
    marks = [
        f"{which} {'within' if value < job.target_seconds else 'MISSED'}"
        for which, value in (("cold", t.cold_seconds), ("warm", t.warm_seconds))
    ]
    return f"target < {job.target_seconds:g} s: {', '.join(marks)}"


def line(job: Job, t: Timing) -> str:
    name = f"{job.label} ({job.format})"
    if t.status != "made":
        target = f" (target < {job.target_seconds:g} s)" if job.target_seconds else ""
        return f"{name:30s} {t.status}" + (f": {t.error}" if t.error else target)
    unit = "pages" if job.format == "pdf" else "rows"
    return (
        f"{name:30s} {_seconds(t.cold_seconds)} {_seconds(t.warm_seconds)}"
        f" {t.pages:>7,} {unit:5s}  {_against(job, t)}"
    ).rstrip()


# -- Main ---------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a small trust, to try it")
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="warm runs (their median)")
    parser.add_argument("--only", help="comma-separated: " + ",".join(j.name for j in JOBS))
    parser.add_argument("--warehouse", type=Path, help="an already built warehouse")
    parser.add_argument("--output", type=Path, help="also write the figures as JSON")
    # In the child process (in_child): one document.
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--pupil", help=argparse.SUPPRESS)
    parser.add_argument("--school", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    jobs = {j.name: j for j in JOBS}
    if args.child:
        timing = time_one(jobs[args.child], args.warehouse, args.pupil, args.school, args.repeat)
        print(json.dumps(asdict(timing)))
        return 0
    names = args.only.split(",") if args.only else list(jobs)
    unknown = [n for n in names if n not in jobs]
    if unknown:
        print(f"--only: no document called {', '.join(unknown)}; choose from {', '.join(jobs)}")
        return 2
    wanted = [jobs[n] for n in names]
    size = SMALL if args.small else {"schools": args.schools, "pupils": args.pupils}
    warehouse = args.warehouse or with_app_records(size["schools"], size["pupils"], args.seed)
    pupil, school = subjects(warehouse)
    mib = warehouse.stat().st_size / 2**20
    print(f"warehouse: {warehouse.name}, {mib:,.0f} MiB; pupil {pupil} at school {school}")
    print(f"load average before: {_load()}")
    print(f"{'document':30s} {'cold s':>8s} {'warm s':>8s} {'pages':>7s}")
    timings = []
    for job in wanted:
        timing = in_child(job, warehouse, pupil, school, args.repeat)
        timings.append(timing)
        print(line(job, timing), flush=True)
    print(f"warm: the median of {args.repeat} more in the same process")
    print(f"load average after: {_load()}")
    if args.output:
        report: dict[str, Any] = {
            "warehouse": str(warehouse),
            "repeat": args.repeat,
            "documents": [asdict(t) for t in timings],
        }
        args.output.write_text(json.dumps(report, indent=2))
    return 1 if any(t.status == "failed" for t in timings) else 0


if __name__ == "__main__":
    sys.exit(main())
