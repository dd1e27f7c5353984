"""The recovery drill (issue 14, "Done when"): staff write a plan, hold a review and record
a safeguarding concern through the web app; the warehouse is backed up, deleted and
restored from the backup alone; every record, every audit entry and every page they saw
is the same afterwards, and the app goes on from where it was.

The restore builds staging, core and marts again from raw, so equal marts prove that raw
(with the app's own tables) is the whole record.
"""

from __future__ import annotations

import difflib
import re
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of, signed_in

from empowered.backup.snapshot import LEFT_OUT
from empowered.plans import AREAS

pytestmark = pytest.mark.slow

TODAY = date.today()
CONCERN = "Said she is scared to go home because of the shouting at night"
PARENT_VIEWS = "Her father says she now reads to her brother at bedtime."
# Tables that are not the school's record (backup.snapshot.LEFT_OUT: sessions, throttling,
# the analytics cache), and the backup log, whose row for this backup is written after it.
NOT_RECORDS = set(LEFT_OUT) | {"app.backup_log"}


def _hidden(html: str, start: str) -> dict[str, str]:
    form = html[html.index(start) :]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def _form_key(html: str) -> str:
    found = re.search(r'name="form_key" value="([^"]+)"', html)
    assert found, "the form carries its key (a double submit lands once)"
    return found.group(1)


def _write_plan(senco: TestClient, pupil: str) -> None:
    page = senco.get(f"/pupils/{pupil}/plan").text
    outcomes: dict[str, str] = {}
    for n, text in enumerate(("Will ask for help with a help card.", "Will read 20 words.")):
        outcomes |= {
            f"o{n}_text": text,
            f"o{n}_area": AREAS[n],
            f"o{n}_target": (TODAY + timedelta(days=90)).isoformat(),
        }
    saved = senco.post(
        f"/pupils/{pupil}/plan",
        data={
            **_hidden(page, 'action="/pupils/'),
            "plan_type": "sen_support_plan",
            "start_date": (TODAY - timedelta(days=60)).isoformat(),
            "next_review_due": (TODAY + timedelta(days=30)).isoformat(),
            "strengths": "Kind to younger children; loves drawing.",
            **outcomes,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text


def _hold_review(senco: TestClient, pupil: str, app: Any) -> None:
    page = senco.get(f"/pupils/{pupil}/reviews/new").text
    with app.state.warehouse.reading() as con:
        outcomes = [
            r[0]
            for r in con.execute(
                "SELECT o.outcome_id FROM core.fct_plan_outcome AS o JOIN core.fct_plan AS p "
                "USING (plan_id) WHERE p.pupil_key = ? AND p.is_active AND o.in_plan",
                [pupil],
            ).fetchall()
        ]
    assert outcomes, "the plan just written has outcomes to review"
    data = {
        "csrf": csrf_of(page),
        "form_key": _form_key(page),
        "held_on": TODAY.isoformat(),
        "attended": "Father, class teacher, SENCo",
        "parents_met": "yes",
        "pupil_views": "Likes the reading corner.",
        "parent_views": PARENT_VIEWS,
        "parent_discussion": "We agreed a reading log shared with home.",
        "changes": "A reading log.",
        "next_steps": "Teacher to send the log home each Friday.",
    }
    for outcome in outcomes:
        data[f"rating_{outcome}"] = "1"
        data[f"note_{outcome}"] = "Good progress."
    held = senco.post(f"/pupils/{pupil}/reviews", data=data, follow_redirects=False)
    assert held.status_code == 303, held.text


def _record_concern(teacher: TestClient, pupil: str) -> str:
    form = teacher.get(f"/concerns/new?pupil={pupil}").text
    receipt = teacher.post(
        "/concerns/new",
        data={
            "csrf": csrf_of(form),
            "pupil": pupil,
            "form_key": _form_key(form),
            "category": "emotional",
            "concern_text": CONCERN,
            "people_present": "Class teacher",
            "place": "Classroom",
        },
    )
    assert receipt.status_code == 200, receipt.text
    found = re.search(r"Reference: <strong>(SC-[0-9]+-[0-9a-f]+)</strong>", receipt.text)
    assert found
    return found.group(1)


def _settled(value: Any) -> Any:
    """A float to 9 decimal places: a figure summed in another order (the restore's build
    is a full one) differs in the last bit (0.0 against -1.3e-17), not a lost record."""
    return round(value, 9) + 0.0 if isinstance(value, float) else value


def _records(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, but for the tables that are not the record."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE schema_name IN ('raw', 'app', 'staging', 'core', 'marts', 'quarantine')"
            ).fetchall()
        ]
        return {
            name: sorted(
                (
                    tuple(_settled(v) for v in row)
                    for row in con.execute(f"SELECT * FROM {name}").fetchall()
                ),
                key=repr,
            )
            for name in names
            if name not in NOT_RECORDS
        }
    finally:
        con.close()


def _pages(clients: dict[str, TestClient], pupil: str, concern: str) -> dict[str, str]:
    """What each member of staff saw, without what differs on every request: the form
    tokens and the charts' element ids (numbered as charts are drawn)."""
    seen = {
        "senco": ["/", f"/pupils/{pupil}", f"/pupils/{pupil}/plan", f"/pupils/{pupil}/reviews"],
        "dsl": ["/concerns", f"/concerns/{concern}", f"/pupils/{pupil}/chronology"],
        "teacher": [f"/pupils/{pupil}"],
    }
    pages = {}
    for role, paths in seen.items():
        for path in paths:
            response = clients[role].get(path)
            assert response.status_code == 200, (role, path)
            tokens = re.sub(
                r'name="(csrf|form_key|plan_key)" value="[^"]*"', r'name="\1"', response.text
            )
            pages[f"{role} {path}"] = re.sub(r"chart-[0-9]+", "chart", tokens)
    return pages


def test_a_restored_backup_is_the_whole_record(
    app_and_users: tuple[Any, dict[str, str]],
    web_trust: Trust,
    tmp_path: Path,
) -> None:
    from empowered.backup import restore_backup, take_backup
    from empowered.backup.keys import backup_key
    from empowered.settings import Settings
    from empowered.web import capture
    from empowered.web.app import create_app

    app, names = app_and_users
    clients = {role: signed_in(app, names[role]) for role in ("senco", "dsl", "teacher")}
    pupil = web_trust.in_group[0]
    _write_plan(clients["senco"], pupil)
    _hold_review(clients["senco"], pupil, app)
    concern = _record_concern(clients["teacher"], pupil)
    before_pages = _pages(clients, pupil, concern)
    assert PARENT_VIEWS in before_pages[f"senco /pupils/{pupil}/reviews"]
    assert CONCERN in before_pages[f"dsl /concerns/{concern}"]

    settings = Settings(warehouse=web_trust.path)
    keys = settings.keys()
    with app.state.warehouse.reading() as con:
        info = take_backup(con, tmp_path / "backups", keys, backup_key(settings, create=True))
    capture.stop(app)
    app.state.warehouse.close()
    before = _records(web_trust.path)
    assert before["app.audit_log"], "the drill's own page views were audited"

    # The disk fails: the warehouse is gone; only the backup (and the key file) remain.
    lost = shutil.move(web_trust.path, tmp_path / "lost.duckdb")
    assert not web_trust.path.exists() and Path(lost).exists()
    report = restore_backup(info.path, web_trust.path, keys, backup_key(settings))
    assert report.warehouse == web_trust.path

    after = _records(web_trust.path)
    assert set(after) == set(before)
    differ = [name for name in before if after[name] != before[name]]
    assert not differ, f"tables not the same after the restore: {differ}"

    restored = create_app(web_trust.path)
    try:
        again = {role: signed_in(restored, names[role]) for role in ("senco", "dsl", "teacher")}
        # Every session was ended by the restore: an old cookie no longer signs anyone in.
        stale = TestClient(restored)
        stale.cookies = clients["senco"].cookies
        assert stale.get("/", follow_redirects=False).status_code in (302, 303)
        after_pages = _pages(again, pupil, concern)
        changed = {
            page: "\n".join(
                difflib.unified_diff(
                    before_pages[page].splitlines(), after_pages[page].splitlines(), lineterm=""
                )
            )
            for page in before_pages
            if after_pages[page] != before_pages[page]
        }
        assert not changed, f"pages not the same after the restore: {changed}"
        # The audit log goes on from where it was: new entries follow the restored chain.
        from empowered.access.audit import verify

        with restored.state.warehouse.reading() as con:
            checked = verify(con)
        assert checked.broken is None and checked.entries > len(before["app.audit_log"])
    finally:
        capture.stop(restored)
        restored.state.warehouse.close()
