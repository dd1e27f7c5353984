"""Benchmark: the termly register review packs on a trust-sized warehouse (issue 16: "a trust
review pack under 30 seconds on the trust-sized benchmark").

Reads a built warehouse read-only (default: the one ``benchmarks/web.py`` builds and keeps,
20 schools and 12,000 pupils; build it first with that script) and times, in one process
with WeasyPrint already loaded, the trust's pack and one school's pack as PDF and as a
workbook: first with no analytics computed ("cold", what the first pack after a build
costs), then again ("warm", the analytics cached as the server keeps them). Prints the
times, writes benchmarks/output/review_pack.json, and exits 1 when the trust's PDF takes
longer than ``--target-s``.

    python benchmarks/review_pack.py [--warehouse BUILT.duckdb] [--target-s 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

OUTPUT = Path(__file__).resolve().parent / "output"
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))
DEFAULT = OUTPUT / "web-20x12000x1-seed1.duckdb"


def main() -> int:
    from empowered.access.documents import DocumentKind
    from empowered.documents.asking import ask_for
    from empowered.documents.pdf import render_pdf
    from empowered.documents.registry import make_document
    from empowered.settings import get_settings
    from empowered.views.cache import SchoolAnalyticsCache

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, default=DEFAULT)
    parser.add_argument("--target-s", type=float, default=30.0)
    args = parser.parse_args()
    if not args.warehouse.exists():
        print(f"{args.warehouse} is not there: build it with benchmarks/web.py first.")
        return 2
    render_pdf("<html lang='en-GB'><body><p>warm</p></body></html>")  # load WeasyPrint
    con = duckdb.connect(str(args.warehouse), read_only=True)
    keys = get_settings().keys()
    row = con.execute("SELECT min(school_urn), count(*) FROM core.dim_school").fetchone()
    assert row is not None
    school, schools = str(row[0]), int(row[1])
    cache = SchoolAnalyticsCache()
    results: dict[str, float] = {}
    for run in ("cold", "warm"):
        for label, kind, urn in (
            ("trust", DocumentKind.TRUST_REVIEW_PACK, None),
            ("school", DocumentKind.REVIEW_PACK, school),
        ):
            for fmt in ("pdf", "xlsx"):
                ask = ask_for(
                    con, kind, fmt, scope=None, made_on=date.today(), school_urn=urn,
                    keys=keys, cache=cache,
                )  # fmt: skip
                began = time.perf_counter()
                made = make_document(con, ask)
                seconds = time.perf_counter() - began
                results[f"{label} {fmt} {run}"] = round(seconds, 2)
                unit = "pages" if fmt == "pdf" else "rows"
                print(f"{label} {fmt} {run}: {seconds:.2f} s ({made.pages} {unit})", flush=True)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "review_pack.json").write_text(
        json.dumps({"warehouse": str(args.warehouse), "schools": schools, **results}, indent=2)
    )
    slowest = max(results["trust pdf cold"], results["trust pdf warm"])
    ok = slowest <= args.target_s
    print(f"trust pack {slowest:.1f} s: {'within' if ok else 'over'} {args.target_s:g} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
