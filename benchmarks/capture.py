"""Benchmark: N members of staff saving check-ins at once on a trust-sized warehouse.

Copies a built warehouse (``--warehouse``, or the trust of ``--schools``/``--pupils`` built
as benchmarks/web.py builds it and keeps it in benchmarks/output/), adds ``--staff``
teachers spread over the biggest schools, each with a teaching group, and serves the real
app with uvicorn in a SEPARATE PROCESS: the simulated staff (threads with an
``httpx.Client`` each) then share no interpreter lock with the server, so what is timed is
the server's answer and not the benchmark's own Python. Each member of staff signs in,
lists their pupils (``/capture``) and, for ``--seconds``, opens a pupil's check-in form,
thinks (``--think`` seconds on average), and saves it as the phone does (an htmx post).
Now and then (``--retry``) the same form is posted again, as a double tap or a phone
resending after a lost answer does: it must land nothing the second time.

The server rebuilds the marts after captures as it does in use (one incremental build per
run of captures, ``web.capture.Rebuilder``), so saves are timed while rebuilds run too;
``--longest`` (the longest a capture waits for its rebuild while captures never pause) is
15 s here so that a minute's run sees rebuilds, and ``--rebuild-every`` forces one every
so many seconds. Prints p50, p95 and max of the saves (all, those that overlapped a
rebuild and those that did not) against the 300 ms target, throughput, the load average,
and how long the server's requests waited for and held the recording lock (where a save's
time goes). Then it stops the server (which runs the last rebuild) and checks in the
warehouse that NOTHING was lost or duplicated: every save answered "Saved" landed exactly
one raw row and one "captured" audit entry, retried forms landed nothing more, the audit
chain verifies, and the final rebuild carried every capture into staging. Exits 1 when a
check fails (a missed target is reported, not failed: the machine may be busy).

    python benchmarks/capture.py [--warehouse BUILT.duckdb] [--schools 20] [--pupils 12000]
        [--staff 40] [--seconds 60] [--think 1.0] [--retry 0.1] [--longest 15]
        [--rebuild-every 0]

Quick run on a small trust: ``--schools 2 --pupils 400 --staff 6 --seconds 10``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx

OUTPUT = Path(__file__).resolve().parent / "output"
# The benchmark warehouses are encrypted with the keys in this file (made on first run).
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))
PASSWORD = "benchmark capture password"
TARGET_MS = 300.0
LONG_HOLD_MS = 250.0  # a recording-lock hold this long is listed, with the WAL's size


# -- The server (run as a child process: ``capture.py --serve``) ------------------------


def serve(
    path: Path, port: int, stats: Path, quiet: float, longest: float, rebuild_every: float
) -> None:
    """Serve the app on ``port`` until SIGTERM; then run the last rebuild and write what
    the rebuilder did (wall-clock intervals, to match against the clients' timings)."""
    from contextlib import contextmanager

    import uvicorn

    from empowered.settings import Settings
    from empowered.web import warming
    from empowered.web.app import create_app
    from empowered.web.capture import Rebuilder
    from empowered.web.warehouse import Warehouse

    builds: list[dict[str, Any]] = []
    # Where a save's time goes: waiting for the recording lock (every save, sign-in and
    # page view's audit entry takes it), and holding it.
    locks: dict[str, list[float]] = {"wait": [], "hold": []}
    # The longest holds, with the size of the warehouse's write-ahead log before and after:
    # a log that shrank during a hold means a checkpoint ran in that hold's COMMIT.
    wal = path.with_name(path.name + ".wal")
    long_holds: list[dict[str, float]] = []

    def wal_size() -> int:
        try:
            return wal.stat().st_size
        except FileNotFoundError:
            return 0

    @contextmanager
    def recording(self: Warehouse) -> Any:
        asked = time.perf_counter()
        with self.record_lock, self.reading() as cursor:
            got = time.perf_counter()
            before = wal_size()
            try:
                yield cursor
            finally:
                held = (time.perf_counter() - got) * 1000
                locks["wait"].append((got - asked) * 1000)
                locks["hold"].append(held)
                if held > LONG_HOLD_MS:
                    after = wal_size()
                    long_holds.append(
                        {"at": time.time(), "ms": held, "wal_before": before, "wal_after": after}
                    )

    Warehouse.recording = recording  # type: ignore[method-assign]

    class TimedRebuilder(Rebuilder):
        def _build(self, touched: set[str]) -> None:
            started = time.time()
            try:
                super()._build(touched)
            finally:
                builds.append(
                    {
                        "start": started,
                        "end": time.time(),
                        "models": self.last_models,
                        "error": self.last_error,
                    }
                )

    app = create_app(path, settings=Settings(environment="development"))
    app.state.capture_rebuilder = TimedRebuilder(app, quiet=quiet, longest=longest)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    run = warming.current(app)
    if run is not None:  # measure captures, not the start-up cache warming
        run.wait()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def force() -> None:
        while not stop.wait(rebuild_every):
            app.state.capture_rebuilder.flush()

    if rebuild_every > 0:
        threading.Thread(target=force, name="forced-rebuilds", daemon=True).start()
    print("READY", flush=True)
    for kept in locks.values():
        kept.clear()  # from here on: the timed run
    long_holds.clear()
    stop.wait()
    server.should_exit = True
    thread.join(timeout=600)  # the lifespan's end runs a rebuild still waiting
    flushed = app.state.capture_rebuilder.flush(timeout=600)
    app.state.warehouse.close()
    stats.write_text(
        json.dumps({"builds": builds, "flushed": flushed, "locks": locks, "long": long_holds})
    )


# -- Accounts -----------------------------------------------------------------------------


@dataclass
class Staff:
    username: str
    user_id: int


def add_staff(path: Path, count: int) -> list[Staff]:
    """``count`` teachers, spread over the biggest schools, one teaching group each."""
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user

    con = duckdb.connect(str(path))
    ensure_access_tables(con)
    groups = con.execute(
        "SELECT school_urn, group_code FROM core.bridge_group_member GROUP BY 1, 2 "
        "ORDER BY count(*) DESC, 1, 2 LIMIT ?",
        [count],
    ).fetchall()
    staff = []
    for n in range(count):
        school, group = groups[n % len(groups)]
        user = add_user(
            con, f"bench-staff-{n}", PASSWORD, "teacher", school_urn=school, groups=(group,)
        )
        staff.append(Staff(user.username, user.user_id))
    con.close()
    return staff


# -- Simulated staff ----------------------------------------------------------------------


def field_of(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    if not found:
        raise RuntimeError(f"no {name} on the page")
    return found.group(1)


@dataclass
class Save:
    key: str  # the form's idempotency key
    user_id: int
    retry: bool
    start: float  # wall clock, to match against the server's rebuilds
    ms: float
    outcome: str  # saved | refused (an answer that is not "Saved") | unknown (no answer)


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    saves: list[Save] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, save: Save) -> None:
        with self.lock:
            self.saves.append(save)


@dataclass
class Clock:
    """Every member of staff signs in first; the timed run starts together."""

    ready: threading.Barrier
    seconds: float
    until: float = 0.0

    def start(self) -> None:
        self.until = time.monotonic() + self.seconds


def post(client: httpx.Client, pupil: str, data: dict[str, str]) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        answer = client.post(f"/capture/{pupil}", data=data, headers={"HX-Request": "true"})
    except httpx.HTTPError:
        return "unknown", (time.perf_counter() - started) * 1000
    ms = (time.perf_counter() - started) * 1000
    saved = answer.status_code == 200 and "capture-saved" in answer.text
    return ("saved" if saved else "refused"), ms


def work(
    base_url: str, staff: Staff, clock: Clock, args: argparse.Namespace, seed: int, out: Results
) -> None:
    rng = random.Random(seed)
    try:
        with httpx.Client(base_url=base_url, timeout=120, follow_redirects=False) as client:
            try:
                form = client.get("/sign-in")
                client.post(
                    "/sign-in",
                    data={
                        "username": staff.username,
                        "password": PASSWORD,
                        "csrf": field_of(form.text, "csrf"),
                    },
                )
                listed = client.get("/capture")
                pupils = sorted(set(re.findall(r'href="/capture/([A-Za-z0-9_-]+)"', listed.text)))
                if not pupils:
                    raise RuntimeError(f"no pupils to capture for ({listed.status_code})")
            finally:
                clock.ready.wait()
            while time.monotonic() < clock.until:
                pupil = rng.choice(pupils)
                form = client.get(f"/capture/{pupil}?kind=check_in")
                data = {
                    "csrf": field_of(form.text, "csrf"),
                    "capture_key": field_of(form.text, "capture_key"),
                    "kind": "check_in",
                    "mood": rng.choice("12345"),
                    "engagement": rng.choice("1234"),
                }
                if args.think:
                    time.sleep(rng.uniform(0, 2 * args.think))
                retries = 1 if rng.random() < args.retry else 0
                for attempt in range(1 + retries):
                    start = time.time()
                    outcome, ms = post(client, pupil, data)
                    key = data["capture_key"]
                    out.add(Save(key, staff.user_id, attempt > 0, start, ms, outcome))
    except Exception as err:  # report it with the results rather than lose the thread
        with out.lock:
            out.problems.append(f"{staff.username}: {type(err).__name__}: {err}")


# -- Checks -------------------------------------------------------------------------------


def batch_hash(user_id: int, key: str) -> str:
    # As sources.capture._batch_hash: the same person's form key is the same capture.
    return hashlib.sha256(f"capture:app-user-{user_id}:key:{key}".encode()).hexdigest()


def check(path: Path, saves: list[Save], staff: list[Staff]) -> list[str]:
    """What the warehouse holds against what the staff were told: problems, if any."""
    from empowered.access.audit import verify

    con = duckdb.connect(str(path), read_only=True)
    landed = {
        str(h): (int(b), int(r))
        for h, b, r in con.execute(
            "SELECT b.file_hash, count(DISTINCT b.batch_id), count(o._batch_id) "
            "FROM meta.batches AS b LEFT JOIN raw.canonical_observations AS o "
            "ON o._batch_id = b.batch_id WHERE b.source = 'capture' GROUP BY 1"
        ).fetchall()
    }
    ids = [s.user_id for s in staff]
    [(audited,)] = con.execute(
        "SELECT count(*) FROM app.audit_log WHERE event = 'captured' AND user_id IN "
        "(SELECT unnest(?))",
        [ids],
    ).fetchall()
    [(staged,)] = con.execute(
        "SELECT count(*) FROM staging.stg_canonical_observations WHERE _batch_id IN "
        "(SELECT batch_id FROM meta.batches WHERE source = 'capture')"
    ).fetchall()
    chain = verify(con)
    con.close()

    told = {batch_hash(s.user_id, s.key) for s in saves if s.outcome == "saved"}
    tried = {batch_hash(s.user_id, s.key) for s in saves}
    problems = []
    lost = told - landed.keys()
    if lost:
        problems.append(f"{len(lost)} saves answered 'Saved' landed nothing")
    doubled = {h: n for h, n in landed.items() if n != (1, 1)}
    if doubled:
        problems.append(f"{len(doubled)} forms landed other than one batch of one row")
    strays = landed.keys() - tried
    if strays:
        problems.append(f"{len(strays)} captures landed that no member of staff posted")
    rows = sum(r for _, r in landed.values())
    if audited != rows:
        problems.append(f"{rows} captured rows but {audited} 'captured' audit entries")
    if staged != rows:
        problems.append(f"{rows} captured rows but {staged} in staging after the last rebuild")
    if not chain.ok:
        problems.append(f"the audit chain does not verify: {chain.broken}")
    print(
        f"\nwarehouse: {rows} captured rows in raw ({len(told)} saves answered 'Saved', "
        f"{len(tried - told)} forms without that answer), {audited} audit entries, "
        f"{staged} in staging after the last rebuild; audit chain "
        f"{'verifies' if chain.ok else 'BROKEN'} ({chain.entries} entries)"
    )
    return problems


# -- Main ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system, every thread) process ``pid`` has used so far, from
    /proc (nan where there is none): the server's CPU per request, whatever else loads
    the machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1 or q >= 100:
        return max(values)
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(label: str, ms: list[float]) -> str:
    return (
        f"{label:<34} {len(ms):>6} {percentile(ms, 50):>8.0f} {percentile(ms, 95):>8.0f} "
        f"{max(ms, default=float('nan')):>8.0f}"
    )


def start_server(path: Path, port: int, stats: Path, args: argparse.Namespace) -> Any:
    command = [
        sys.executable,
        __file__,
        "--serve",
        str(path),
        "--port",
        str(port),
        "--stats",
        str(stats),
        "--quiet",
        str(args.quiet),
        "--longest",
        str(args.longest),
        "--rebuild-every",
        str(args.rebuild_every),
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == "READY":
            return child
        print(line, end="")
    raise SystemExit("the server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=12_000)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warehouse", type=Path, help="a built warehouse to copy instead")
    parser.add_argument("--staff", type=int, default=40, help="members of staff saving at once")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds before a save")
    parser.add_argument("--retry", type=float, default=0.1, help="share of forms posted twice")
    parser.add_argument("--quiet", type=float, default=2.0, help="the rebuilder's quiet spell")
    parser.add_argument(
        "--longest",
        type=float,
        default=15.0,
        help="the rebuilder's longest wait (s; the server's is 60, shorter here so that a "
        "minute's run sees rebuilds)",
    )
    parser.add_argument("--rebuild-every", type=float, default=0, help="force rebuilds (s)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.stats, args.quiet, args.longest, args.rebuild_every)
        return 0

    from web import built_warehouse, free_port  # benchmarks/web.py, beside this file

    OUTPUT.mkdir(parents=True, exist_ok=True)
    source = args.warehouse or built_warehouse(args.schools, args.pupils, args.years, args.seed)
    path = OUTPUT / "capture-run.duckdb"
    stats = OUTPUT / "capture-run.json"
    for old in (path, path.with_name(path.name + ".wal"), stats):
        old.unlink(missing_ok=True)
    shutil.copy(source, path)
    if source.with_name(source.name + ".wal").exists():  # not yet checkpointed: copy it too
        shutil.copy(source.with_name(source.name + ".wal"), path.with_name(path.name + ".wal"))
    staff = add_staff(path, args.staff)
    con = duckdb.connect(str(path), read_only=True)
    schools, pupils = con.execute(
        "SELECT (SELECT count(*) FROM core.dim_school), (SELECT count(*) FROM core.dim_pupil)"
    ).fetchone() or (0, 0)
    con.close()
    print(f"warehouse {source}: {schools} schools, {pupils:,} pupils; {len(staff)} staff")

    port = free_port()
    started = time.perf_counter()
    child = start_server(path, port, stats, args)
    print(f"server up (cache warm) on port {port} in {time.perf_counter() - started:.1f} s")
    drain = threading.Thread(target=lambda: [print(line, end="") for line in child.stdout])
    drain.start()

    results = Results()
    cpu: list[float] = []

    def begin() -> None:
        cpu.append(cpu_seconds(child.pid))
        clock.start()

    clock = Clock(threading.Barrier(len(staff), action=begin), args.seconds)
    workers = [
        threading.Thread(
            target=work,
            args=(f"http://127.0.0.1:{port}", s, clock, args, args.seed * 1000 + n, results),
            daemon=True,
        )
        for n, s in enumerate(staff)
    ]
    load_before = os.getloadavg()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = args.seconds + max(0.0, time.monotonic() - clock.until)
    load_after = os.getloadavg()
    cpu.append(cpu_seconds(child.pid))
    child.send_signal(signal.SIGTERM)
    stopping = time.perf_counter()
    child.wait(timeout=900)
    drain.join()
    server = json.loads(stats.read_text())
    builds = server["builds"]

    saves = results.saves
    firsts = [s for s in saves if not s.retry]
    overlaps = [
        any(b["start"] < s.start + s.ms / 1000 and s.start < b["end"] for b in builds)
        for s in saves
    ]
    during = [s.ms for s, o in zip(saves, overlaps, strict=True) if o]
    between = [s.ms for s, o in zip(saves, overlaps, strict=True) if not o]
    saved = [s for s in firsts if s.outcome == "saved"]
    print(
        f"\n{len(staff)} staff for {elapsed:.0f} s (think {args.think:.1f} s mean, "
        f"{args.retry:.0%} of forms posted twice): {len(saved)} check-ins saved, "
        f"{len(saved) / elapsed:.1f}/s; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after; {os.cpu_count()} CPUs"
    )
    print(f"\n{'save (ms)':<34} {'saves':>6} {'p50':>8} {'p95':>8} {'max':>8}")
    print(summary("every post", [s.ms for s in saves]))
    print(summary("first posts of a form", [s.ms for s in firsts]))
    print(summary("the same form again (retries)", [s.ms for s in saves if s.retry]))
    print(summary("while a rebuild ran", during))
    print(summary("while none ran", between))
    # Each first post followed a form opened (GET): two requests a form, one a retry.
    requests = len(saves) + len(firsts)
    server_cpu = cpu[1] - cpu[0] if len(cpu) == 2 else float("nan")
    print(
        f"server CPU over the timed run: {server_cpu:.1f} s, {1000 * server_cpu / requests:.1f} "
        f"ms per request ({requests} requests: forms opened and posts; rebuilds included)"
        if requests
        else "server CPU: no requests"
    )
    p95 = percentile([s.ms for s in saves], 95)
    print(f"p95 {p95:.0f} ms: {'ok' if p95 <= TARGET_MS else 'MISSED'} (target {TARGET_MS:.0f} ms)")
    for what, ms in server["locks"].items():
        print(summary(f"recording lock: {what}", ms))
    shrank = [h for h in server["long"] if h["wal_after"] < h["wal_before"]]
    print(
        f"holds over {LONG_HOLD_MS:.0f} ms: {len(server['long'])}, of which {len(shrank)} "
        "with a checkpoint in them (the write-ahead log shrank): "
        + ", ".join(
            f"{h['ms']:.0f} ms ({h['wal_before'] / 1e6:.1f} -> {h['wal_after'] / 1e6:.1f} MB"
            f"{', after a rebuild' if any(0 < h['at'] - b['end'] < 5 for b in builds) else ''})"
            for h in sorted(server["long"], key=lambda h: -h["ms"])[:8]
        )
    )
    took = [b["end"] - b["start"] for b in builds]
    print(
        f"\nrebuilds: {len(builds)} ({', '.join(f'{t:.1f}' for t in took)} s; "
        f"{sum(took):.0f} s of the run spent rebuilding); "
        f"stopping the server (last rebuild) took {time.perf_counter() - stopping:.1f} s"
    )
    for b in builds:
        if b["error"]:
            print(f"rebuild problem: {b['error']}")
    problems = list(results.problems)
    problems += [f"{s.outcome} answer to a save" for s in saves if s.outcome != "saved"][:5]
    problems += check(path, saves, staff)
    if not server["flushed"]:
        problems.append("the last rebuild did not finish")
    for problem in problems:
        print(f"problem: {problem}")
    print("nothing lost or duplicated" if not problems else "CHECKS FAILED")
    path.unlink(missing_ok=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
