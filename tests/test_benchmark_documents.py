"""The documents' benchmark still runs: two documents, each in a process of its own, on the
small trust with the app's records; a document not written yet is reported, not a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "documents.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The script as a person runs it (its own interpreter; the test run's keys)."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600
    )


def test_the_documents_benchmark_times_each_document_cold_and_warm(
    app_records_warehouse: Path, tmp_path: Path
) -> None:
    output = tmp_path / "documents.json"
    done = run(
        "--warehouse", str(app_records_warehouse),
        "--only", "profile,parent",
        "--repeat", "1",
        "--output", str(output),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = {d["job"]: d for d in json.loads(output.read_text())["documents"]}
    profile = report["profile"]
    assert profile["status"] == "made" and profile["pages"] == 1
    assert profile["cold_seconds"] > 0 and profile["warm_seconds"] > 0
    # The parent report is another helper's: timed once it is written, until then said so.
    assert report["parent"]["status"] in {"made", "not built yet"}
    assert "target < 2 s" in done.stdout and "load average before" in done.stdout


def test_a_document_it_does_not_know_is_refused_in_words() -> None:
    done = run("--warehouse", "unused.duckdb", "--only", "profile,leaflet")
    assert done.returncode == 2
    assert "no document called leaflet" in done.stdout
