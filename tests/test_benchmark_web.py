"""The web benchmark still runs: a first start, a restart, then two users for three seconds
on the small trust."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "web.py"


def test_the_web_benchmark_runs_and_reports_every_page(
    built_warehouse: Path, tmp_path: Path
) -> None:
    spec = importlib.util.spec_from_file_location("benchmark_web", SCRIPT)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up
    try:
        spec.loader.exec_module(bench)
    finally:
        del sys.modules[spec.name]
    output = tmp_path / "web.json"
    code = bench.main(
        [
            "--warehouse", str(built_warehouse),
            "--users", "2",
            "--seconds", "3",
            "--think", "0",
            "--staffed-schools", "1",
            "--output", str(output),
            "--no-fail",
            "--ready-timeout-s", "120",
        ]
    )  # fmt: skip
    assert code == 0
    report = json.loads(output.read_text())
    assert report["problems"] == []
    assert report["warming_seconds"] is not None
    # Seconds from process start until the server answered, and until pages answered
    # within target (None: not within the probe's time; how fast is not tested here).
    for start in ("first_start", "restart"):
        assert report[start]["listening_seconds"] > 0
        ready = report[start]["ready_seconds"]
        assert ready is None or ready >= report[start]["listening_seconds"]
    assert len(report["load_average"]["before"]) == 3
    pages = {p["page"]: p for p in report["pages"]}
    # The first two accounts (the trust administrator and the trust analyst) tour their
    # pages in a random order; in two seconds each opens some of them.
    assert pages and set(pages) <= {
        "/", "/register", "/register?filters", "/register.xlsx", "/register.xlsx (trust)",
        "/provision",
        "/pupils/{key}", "/strategies", "/triggers", "/capture", "/imports", "/admin",
        "/audit", "/glossary", "/actions", "/provision/groups",
    }  # fmt: skip
    assert all(p["requests"] > 0 and p["errors"] == 0 for p in pages.values())
    assert {"trust_admin", "trust_analyst"} == {r for p in pages.values() for r in p["roles"]}
    assert not (tmp_path / "web-run.duckdb").exists(), "the run's copy is removed"
