"""While the server runs it owns the warehouse file: the inbox it watches imports through
its connection, and a command that needs the file says plainly that the server holds it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_fixtures import Trust, observations_csv, one_value

from empowered.cli import app as cli
from empowered.settings import Settings
from empowered.web import inbox

# The secret the small trust was built with (tests/conftest.py).
SECRET = "test-pseudonym-key"


def _until(check: Any, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_the_server_imports_a_file_dropped_in_its_inbox(
    app_and_users: tuple[Any, dict[str, str]],
    clients: dict[str, TestClient],
    web_trust: Trust,
    small_trust: Path,
    tmp_path: Path,
) -> None:
    app = app_and_users[0]
    folder = tmp_path / "inbox"
    app.state.settings = Settings(pseudonym_key=SECRET, inbox=folder)
    app.state.inbox_poll_seconds = 0.2
    before = one_value(app, "SELECT count(*) FROM core.fct_observation")
    try:
        with TestClient(app):  # runs the app's lifespan: the inbox starts and stops with it
            assert folder.is_dir()
            watching = app.state.inbox
            assert watching.thread.is_alive()
            (folder / "observations.csv").write_bytes(
                observations_csv(small_trust, web_trust.school, "INB", rows=8)
            )
            (folder / "pupils.csv").write_bytes(b"school_urn,forename\n123456,Ann\n")
            _until(lambda: (folder / "imported").is_dir() and (folder / "failed").is_dir())
            _until(
                lambda: one_value(app, "SELECT count(*) FROM app.imports WHERE via = 'inbox'") == 2
            )
        assert not watching.thread.is_alive() and app.state.inbox is None
    finally:
        app.state.settings = None
    # Once its report is written no copy of a file stays: the imported one leaves its
    # report, the refused one the reason (issue 10, finding 6).
    assert [
        p.name for p in (folder / "imported").iterdir() if not p.name.startswith("import-")
    ] == []
    assert any(p.name.startswith("import-") for p in (folder / "imported").iterdir())
    refused = [p.name for p in (folder / "failed").iterdir()]
    assert len(refused) == 1 and refused[0].endswith("-pupils.csv.txt")
    assert not (folder / "observations.csv").exists() and not (folder / "pupils.csv").exists()
    for path in folder.rglob("*"):
        assert not path.is_file() or b"INB00000" not in path.read_bytes()
    assert one_value(app, "SELECT count(*) FROM core.fct_observation") == before + 8
    with app.state.warehouse.reading() as con:
        runs = dict(
            con.execute("SELECT status, message FROM app.imports WHERE via = 'inbox'").fetchall()
        )
    assert set(runs) == {"done", "failed"} and "required column missing" in runs["failed"]
    assert (
        one_value(
            app, "SELECT count(*) FROM app.audit_log WHERE event = 'imported' AND user_id IS NULL"
        )
        == 1
    )
    # The refused file is audited too: its name and the kind of problem, no cell.
    with app.state.warehouse.reading() as con:
        failed = con.execute(
            "SELECT detail FROM app.audit_log WHERE event = 'import_failed' AND user_id IS NULL"
        ).fetchall()
    assert [json.loads(d) for (d,) in failed][-1]["file"] == "pupils.csv"
    assert "Ann" not in str(failed)
    # The trust's data lead sees the inbox's batch listed, and its report.
    listing = clients["trust_admin"].get("/imports").text
    assert "the inbox" in listing
    batch = one_value(
        app, "SELECT max(batch_id) FROM meta.batches WHERE file_name = ?", ["observations.csv"]
    )
    assert clients["trust_admin"].get(f"/imports/{batch}").status_code == 200


def test_a_file_still_arriving_waits_for_the_next_look(
    app_and_users: tuple[Any, dict[str, str]],
    web_trust: Trust,
    small_trust: Path,
    tmp_path: Path,
) -> None:
    app = app_and_users[0]
    folder = tmp_path / "inbox"
    folder.mkdir()
    app.state.settings = Settings(pseudonym_key=SECRET, inbox=folder)
    watching = inbox.Watching(folder, thread=None, stopping=None)  # type: ignore[arg-type]
    body = observations_csv(small_trust, web_trust.school, "ARR", rows=6)
    try:
        arriving = folder / "observations.csv"
        arriving.write_bytes(body[:40])
        assert inbox.poll(app, watching, quiet_seconds=0) == []  # first seen
        arriving.write_bytes(body)
        assert inbox.poll(app, watching, quiet_seconds=0) == []  # still growing
        assert arriving.exists()
        done = inbox.poll(app, watching, quiet_seconds=0)  # the same size twice: settled
    finally:
        app.state.settings = None
    assert [d.file for d in done] == ["observations.csv"] and done[0].error is None
    assert not arriving.exists() and (folder / "imported").is_dir()


# The command line while the server runs.

runner = CliRunner()


@pytest.fixture
def held_by_a_server(tmp_path: Path) -> Any:
    """A process holding a warehouse file as the server does (its app opens the file)."""
    path = tmp_path / "served.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            " from empowered.web.app import create_app;"
            " create_app(Path(sys.argv[1])); print('held', flush=True); time.sleep(120)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield path
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    "command",
    [
        ["import", "{data}"],
        ["watch", "{inbox}", "--once"],
        ["build"],
        ["user", "add", "t.smith", "--role", "teacher", "--school", "123456", "--password-stdin"],
        ["user", "list"],
        ["user", "reset-password", "t.smith", "--password-stdin"],
        ["user", "disable", "t.smith"],
        ["demo", "--no-serve"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_command_needing_the_file_says_the_server_holds_it(
    held_by_a_server: Path, tmp_path: Path, command: list[str]
) -> None:
    data = tmp_path / "pupils.csv"
    data.write_text("school_urn,upn\n")
    args = [a.format(data=data, inbox=tmp_path / "inbox") for a in command]
    result = runner.invoke(
        cli,
        [*args, "--warehouse", str(held_by_a_server)],
        input="a long enough password here\n",
    )
    assert result.exit_code == 2, result.output
    assert "Cannot open" in result.output
    assert "If the EmpowerED+ server is running it holds the file" in result.output
    assert held_by_a_server.exists()  # the demo did not delete the server's file


def _student_list(small_trust: Path, school: str) -> bytes:
    """A SIMS-style student list (no URN column) of two of the school's pupils."""
    with (small_trust / "pupils.csv").open(newline="") as handle:
        pupils = [r for r in csv.DictReader(handle) if r["school_urn"] == school][:2]
    lines = ["Student List - printed 01/12/2026", "UPN,Legal Surname,Legal Forename,DOB,Gender"]
    lines += [
        f"{p['upn']},{p['surname']},{p['forename']},{p['date_of_birth']},{p['sex']}" for p in pupils
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_the_inbox_school_is_the_default_and_a_urn_folder_still_decides(
    app_and_users: tuple[Any, dict[str, str]],
    web_trust: Trust,
    small_trust: Path,
    tmp_path: Path,
) -> None:
    """Issue 12: a one-school server's inbox takes exports without a URN (EMPOWERED_INBOX_
    SCHOOL); a file in a school's folder is that school's whatever the default says."""
    app = app_and_users[0]
    folder = tmp_path / "inbox"
    (folder / web_trust.other_school).mkdir(parents=True)
    (folder / "StudentList.csv").write_bytes(_student_list(small_trust, web_trust.school))
    (folder / web_trust.other_school / "StudentList.csv").write_bytes(
        _student_list(small_trust, web_trust.other_school)
    )
    app.state.settings = Settings(pseudonym_key=SECRET, inbox=folder, inbox_school=web_trust.school)
    watching = inbox.Watching(folder, threading.Thread(), threading.Event())
    try:
        assert inbox.poll(app, watching, quiet_seconds=0) == []  # first look: sizes only
        done = inbox.poll(app, watching, quiet_seconds=0)
    finally:
        app.state.settings = None
    assert [d.error for d in done] == [None, None]
    with app.state.warehouse.reading() as con:
        landed = con.execute(
            "SELECT r.school_urn, count(*) FROM raw.canonical_pupils AS r "
            "JOIN meta.batches AS b ON b.batch_id = r._batch_id "
            "WHERE b.file_name = 'StudentList.csv' GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert sorted(landed) == sorted([(web_trust.school, 2), (web_trust.other_school, 2)])
