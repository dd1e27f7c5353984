"""Benchmark: quick capture on the demo-sized trust.

Generates the demo's synthetic trust (3 schools, 1,500 pupils, one year) once into
benchmarks/output/, imports and builds it into a fresh warehouse, signs a teacher in to
the web app and times what a member of staff waits for: the save of a check-in (the POST,
landing one row in raw), and then what happens behind their back: the incremental rebuild
of the models the capture touches (one rebuild for a run of captures). Prints seconds and
the process's peak memory.

    python benchmarks/capture.py [--schools 3] [--pupils 1500] [--seed 2025] [--saves 10]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import time
from pathlib import Path

from fastapi.testclient import TestClient

from empowered.access.users import add_user
from empowered.settings import get_settings
from empowered.sources.importer import import_canonical_folder
from empowered.synth import generate_trust
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse
from empowered.web.app import create_app
from empowered.web.capture import Rebuilder

OUTPUT = Path(__file__).resolve().parent / "output"
# The benchmark warehouses are encrypted with the keys in this file (made on first run).
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))
PASSWORD = "benchmark capture password"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has a form"
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=3)
    parser.add_argument("--pupils", type=int, default=1500)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--saves", type=int, default=10)
    args = parser.parse_args()

    data = OUTPUT / f"trust-{args.schools}x{args.pupils}x{args.years}-seed{args.seed}"
    if not (data / "manifest.json").exists():
        generate_trust(
            data, schools=args.schools, pupils=args.pupils, years=args.years, seed=args.seed
        )
    warehouse = OUTPUT / "capture.duckdb"
    warehouse.unlink(missing_ok=True)
    con = open_warehouse(warehouse)
    import_canonical_folder(con, data, keys=get_settings().keys())
    started = time.perf_counter()
    build_duckdb(con)
    print(f"full build (for comparison)            {time.perf_counter() - started:7.2f} s")
    school, group = con.execute(
        "SELECT school_urn, group_code FROM core.bridge_group_member "
        "GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1"
    ).fetchone() or ("", "")
    pupils = [
        str(k)
        for (k,) in con.execute(
            "SELECT pupil_key FROM core.bridge_group_member WHERE school_urn = ? AND "
            "group_code = ? ORDER BY 1",
            [school, group],
        ).fetchall()
    ]
    add_user(con, "bench-teacher", PASSWORD, "teacher", school_urn=school, groups=(group,))
    con.close()

    app = create_app(warehouse)
    rebuilds = Rebuilder(app, quiet=3600)  # flushed by hand below, so each step is timed
    app.state.capture_rebuilder = rebuilds
    client = TestClient(app)
    client.post(
        "/sign-in",
        data={
            "username": "bench-teacher",
            "password": PASSWORD,
            "csrf": csrf(client.get("/sign-in").text),
        },
    )
    timings: dict[str, list[float]] = {"pupil list": [], "capture form": [], "save": []}
    for n in range(args.saves):
        pupil = pupils[n % len(pupils)]
        started = time.perf_counter()
        client.get("/capture")
        timings["pupil list"].append(time.perf_counter() - started)
        started = time.perf_counter()
        form = client.get(f"/capture/{pupil}")
        timings["capture form"].append(time.perf_counter() - started)
        started = time.perf_counter()
        saved = client.post(
            f"/capture/{pupil}",
            data={"csrf": csrf(form.text), "kind": "check_in", "mood": "4", "engagement": "3"},
            headers={"HX-Request": "true"},
        )
        timings["save"].append(time.perf_counter() - started)
        assert saved.status_code == 200 and "Saved" in saved.text, saved.text[:500]
    for name, seconds in timings.items():
        print(
            f"{name + ' (median of ' + str(args.saves) + ')':38s} "
            f"{statistics.median(seconds):7.3f} s  (max {max(seconds):.3f} s)"
        )
    started = time.perf_counter()
    client.get(f"/pupils/{pupils[0]}")
    print(f"pupil page, captures not yet rebuilt   {time.perf_counter() - started:7.2f} s")

    assert rebuilds.flush()
    print(
        f"rebuild after {args.saves} check-ins (one run)     {rebuilds.last_seconds or 0:7.2f} s  "
        f"{rebuilds.last_models} models run"
    )
    print("    slowest: " + ", ".join(f"{m} {s:.2f} s" for m, s in rebuilds.slowest))
    for kind, data_ in (
        ("check-in", {"kind": "check_in", "mood": "2", "engagement": "2"}),
        ("strategy use", {"kind": "strategy", "strategy": "calm_corner", "outcome": "helped"}),
        ("ABC incident", {"kind": "incident", "behaviour": "refusal"}),
    ):
        form = client.get(f"/capture/{pupils[0]}?kind={data_['kind']}")
        client.post(f"/capture/{pupils[0]}", data={"csrf": csrf(form.text), **data_})
        assert rebuilds.flush()
        print(
            f"rebuild after one {kind:20s} {rebuilds.last_seconds or 0:7.2f} s  "
            f"{rebuilds.last_models} models run"
        )
        print("    slowest: " + ", ".join(f"{m} {s:.2f} s" for m, s in rebuilds.slowest))
    started = time.perf_counter()
    client.get(f"/pupils/{pupils[0]}")
    print(f"pupil page after the rebuild           {time.perf_counter() - started:7.2f} s")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    app.state.warehouse.close()


if __name__ == "__main__":
    main()
