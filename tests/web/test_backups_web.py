"""Backups the running server takes (issue 14, item 1): the schedule (driven by its tick
with an injected clock, not by sleeping), pruning, a failure recorded without stopping
anything, captures saved while a backup runs, the admin page and its button, and the
trust admin's warning on the home page."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from web_fixtures import Trust, csrf_of, one_value

from empowered.settings import Settings, get_settings

BACKUP_KEY = SecretStr(base64.b64encode(bytes(range(32))).decode())


@pytest.fixture(scope="module")
def app(app_and_users: tuple[Any, dict[str, str]]) -> Any:
    from empowered.web.capture import Rebuilder

    found = app_and_users[0]
    # Captures here need no rebuild: keep the write lock free for what is measured.
    found.state.capture_rebuilder = Rebuilder(found, quiet=3600, after_build=lambda a: None)
    return found


def use_folder(app: Any, folder: Path | None, *, keep: int = 14, hours: float = 24) -> Settings:
    """Give the app a backup folder (or none), as EMPOWERED_BACKUP_DIR would."""
    settings = get_settings().model_copy(
        update={
            "backup_dir": folder,
            "backup_keep": keep,
            "backup_interval_hours": hours,
            "backup_key": BACKUP_KEY,
        }
    )
    app.state.settings = settings
    return settings


def fresh_runner(app: Any) -> Any:
    from empowered.web.backup_schedule import Backups

    runner = Backups(app)
    app.state.backups = runner
    return runner


def log_rows(app: Any, status: str) -> int:
    return int(one_value(app, "SELECT count(*) FROM app.backup_log WHERE status = ?", [status]))


def audit_count(app: Any, event: str) -> int:
    return int(one_value(app, "SELECT count(*) FROM app.audit_log WHERE event = ?", [event]))


def wait_for(runner: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while runner.running is not None or runner._one_at_a_time.locked():
        assert time.monotonic() < deadline, "the backup did not finish"
        time.sleep(0.05)


def test_with_no_backup_the_trust_admin_is_warned_and_no_one_else(
    app: Any, clients: dict[str, TestClient]
) -> None:
    use_folder(app, None)
    home = clients["trust_admin"].get("/")
    assert home.status_code == 200
    assert 'data-section="home.backups"' in home.text
    assert "No backup of EmpowerED+ has been taken yet." in home.text
    assert "EMPOWERED_BACKUP_DIR" in home.text  # what to do: no folder is set
    for role in ("senco", "dsl", "teacher", "teaching_assistant", "visiting_professional"):
        page = clients[role].get("/")
        assert page.status_code == 200 and "home.backups" not in page.text, role
    admin = clients["trust_admin"].get("/admin/backups")
    assert "No backup has been taken yet." in admin.text and "Off: no backup folder" in admin.text
    refused = clients["trust_admin"].post(
        "/admin/backups/now", data={"csrf": csrf_of(admin.text)}, follow_redirects=True
    )
    assert "No backup folder is set" in refused.text and log_rows(app, "ok") == 0


def test_the_schedule_backs_up_when_due_not_when_fresh_and_keeps_the_newest(
    app: Any, clients: dict[str, TestClient], tmp_path: Path
) -> None:
    from empowered.backup import list_backups

    folder = tmp_path / "backups"
    use_folder(app, folder, keep=2)
    runner = fresh_runner(app)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=4)
    taken = [runner.tick(start)]  # none yet: taken at once (as at start-up)
    assert runner.tick(start + timedelta(hours=1)) is None  # fresh: nothing to do
    taken.append(runner.tick(start + timedelta(hours=25)))
    taken.append(runner.tick(start + timedelta(hours=50)))
    assert all(t is not None and t.path.exists() for t in taken[1:])
    kept = list_backups(folder)
    # Pruned to the newest two after each success; the first one's sidecar went with it.
    assert [b.path for b in kept] == [taken[1].path, taken[2].path]
    assert not taken[0].path.exists() and len(list(folder.glob("*.json"))) == 2
    assert log_rows(app, "ok") == 3 and audit_count(app, "backup_taken") == 3

    # The newest is 46 hours old: the admin page says so, and the home page warns.
    admin = clients["trust_admin"].get("/admin/backups").text
    assert "46 hours ago" in admin and "older than a day" in admin
    assert str(folder) in admin and "Back up now" in admin
    assert "raw.canonical_observations" in admin  # rows per table of the last backup
    home = clients["trust_admin"].get("/").text
    assert "The newest backup was taken 46 hours ago." in home
    assert "Press Back up now" in home


def test_back_up_now_takes_one_at_once(
    app: Any, clients: dict[str, TestClient], tmp_path: Path
) -> None:
    folder = tmp_path / "now"
    use_folder(app, folder)
    runner = fresh_runner(app)
    admin = clients["trust_admin"]
    page = admin.get("/admin/backups")
    # The form needs its token: without it nothing is taken.
    assert admin.post("/admin/backups/now", data={}).status_code in (400, 403)
    response = admin.post(
        "/admin/backups/now", data={"csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303 and "done=started" in response.headers["location"]
    wait_for(runner)
    shown = admin.get("/admin/backups").text
    assert "just now" in shown and "Backups kept in the folder (1)" in shown
    assert "home.backups" not in admin.get("/").text  # fresh: no warning
    entry = one_value(
        app,
        "SELECT username FROM app.audit_log WHERE event = 'backup_taken' "
        "ORDER BY event_id DESC LIMIT 1",
    )
    assert entry == "trust-admin"  # the button's backup is the admin's, in the audit log


def test_a_failed_backup_is_recorded_and_retried_an_interval_later(
    app: Any, clients: dict[str, TestClient], tmp_path: Path
) -> None:
    # A folder that cannot be made (a part of its path is a file): the process runs as
    # root here, so a read-only folder would not stop it.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    use_folder(app, blocker / "backups")
    runner = fresh_runner(app)
    now = datetime.now(UTC)
    failed_before = audit_count(app, "backup_failed")
    outcome = runner.tick(now)
    from empowered.web.backup_schedule import BackupNotTaken

    assert isinstance(outcome, BackupNotTaken)
    assert runner.tick(now + timedelta(hours=1)) is None  # not retried at once
    assert isinstance(runner.tick(now + timedelta(hours=24)), BackupNotTaken)  # next interval
    assert audit_count(app, "backup_failed") == failed_before + 2
    reason = one_value(
        app, "SELECT reason FROM app.backup_log WHERE status = 'failed' ORDER BY backup_id DESC"
    )
    assert "No backup was made" in reason or "could not" in reason
    home = clients["trust_admin"].get("/").text
    assert "failed." in home and 'data-section="home.backups"' in home
    admin = clients["trust_admin"].get("/admin/backups").text
    assert "The last attempt failed" in admin


def test_captures_are_saved_while_a_backup_is_being_taken(
    app: Any, clients: dict[str, TestClient], web_trust: Trust, tmp_path: Path, monkeypatch: Any
) -> None:
    """The backup reads in its own transaction, holding neither lock: a capture saved
    while it runs answers at once, and the backup holds the data as it began."""
    from empowered.backup import take as take_module

    use_folder(app, tmp_path / "during")
    runner = fresh_runner(app)
    inside, release = threading.Event(), threading.Event()
    original = take_module._write_archive

    def held_open(*args: Any, **kwargs: Any) -> Any:
        inside.set()  # the snapshot's transaction is open
        assert release.wait(60)
        return original(*args, **kwargs)

    monkeypatch.setattr(take_module, "_write_archive", held_open)
    table = "raw.canonical_observations"
    before = int(one_value(app, f"SELECT count(*) FROM {table}"))
    assert runner.start(tmp_path / "during", via="admin")
    assert inside.wait(60)
    store = app.state.warehouse
    assert not store.write_lock.locked() and not store.record_lock.locked()
    teacher = clients["teacher"]
    pupil = web_trust.in_group[0]
    form = teacher.get(f"/capture/{pupil}?kind=check_in")
    began = time.monotonic()
    saved = teacher.post(
        f"/capture/{pupil}",
        data={"csrf": csrf_of(form.text), "kind": "check_in", "mood": "4", "engagement": "4"},
        follow_redirects=False,
    )
    assert saved.status_code in (200, 303), saved.text
    assert runner.running is not None, "the backup was still running when the capture saved"
    assert time.monotonic() - began < 10
    assert int(one_value(app, f"SELECT count(*) FROM {table}")) == before + 1
    release.set()
    wait_for(runner)
    from empowered.backup import list_backups

    (backup,) = list_backups(tmp_path / "during")
    assert backup.row_counts[table] == before  # the snapshot as the backup began
