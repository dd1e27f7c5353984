"""Export for leaving: a school's records written in the app (through the real services:
the demo's writers, a check-in, a note, another school's concern) come out of
``empowered leaving-export`` complete, readable and its own: every record entered at the
school, nothing from another, pupils named, formulas defused, concerns only in the
safeguarding folder, the zip private to its owner, and the export audited."""

from __future__ import annotations

import csv
import io
import json
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from check_ins import land_check_in
from empowered import concerns
from empowered.access.audit import read_log
from empowered.access.retention import BY_KEY, save_settings
from empowered.cli import app
from empowered.demo import DEMO_SEED, create_demo_accounts
from empowered.identity import IdentityReader
from empowered.synth.app_sources import land_demo_records
from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.pupil_note import save_note
from empowered.views.triggers import (
    DECISION_RECORDED,
    DECISIONS,
    add_review,
    find_card,
    id_of,
    parse_review,
)
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS

pytestmark = pytest.mark.slow

TRIGGER_NOTE = "Spoke to the family; attendance is being followed up weekly"
FORMULA = '=HYPERLINK("http://example.invalid","open me")'
ELSEWHERE = "Words of a concern recorded at another school of the trust"

# Each CSV against the raw rows the app landed for it: (raw table, the record's key, or
# None where every version is exported; whether the raw row names its school).
RAW: dict[str, tuple[str, str | None, bool]] = {
    "check_ins": ("observations", "observation_id", True),
    "plans": ("plans", None, True),
    "plan_outcomes": ("plan_outcomes", None, False),
    "review_meetings": ("review_meetings", "meeting_id", True),
    "review_ratings": ("plan_reviews", "review_id", False),
    "ehc_review_steps": ("ehc_review_steps", "step_id", True),
    "actions": ("actions", "action_id", True),
    "interventions": ("interventions", "intervention_code", True),
    "provision_groups": ("provision_groups", "group_id", True),
    "provision_enrolments": ("provision_enrolments", "enrolment_id", True),
    "provision_sessions": ("provision_sessions", "enrolment_id || session_date", False),
    "contributions": ("contributions", "contribution_id", True),
    "safeguarding/concerns": ("concerns", "concern_id", True),
    "safeguarding/concern_events": ("concern_events", "event_id", True),
    "safeguarding/cp_file_transfers": ("cp_file_transfers", "transfer_id", True),
}


@dataclass(frozen=True)
class Left:
    path: str
    school: str
    other_school: str
    noted_pupil: str


def _on_roll(con: duckdb.DuckDBPyConnection, school: str, *, other: bool) -> tuple[str, str, str]:
    row = con.execute(
        "SELECT i.pupil_key, i.school_urn, i.upn FROM core.pupil_identity AS i "
        "JOIN core.fct_enrolment AS e USING (pupil_key, school_urn) "
        "WHERE e.is_on_roll AND (i.school_urn = ?) <> ? ORDER BY i.pupil_key LIMIT 1",
        [school, other],
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1]), str(IdentityReader(TEST_KEYS).upn(row[2]))


@pytest.fixture(scope="module")
def left(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Left]:
    """The small trust with the demo's app records at one school, plus a check-in and a
    note there (shaped like a formula) and a concern at another school."""
    import shutil

    path = tmp_path_factory.mktemp("leaving") / "left.duckdb"
    shutil.copy(built_warehouse, path)
    con = open_warehouse(path)
    create_demo_accounts(con)
    [(school,)] = con.execute(
        "SELECT school_urn FROM app.users WHERE school_urn IS NOT NULL ORDER BY user_id LIMIT 1"
    ).fetchall()
    # The last day the trust's records reach: the pupil is on roll then (staging rule 19).
    [(day,)] = con.execute(
        "SELECT max(try_cast(trim(date) AS DATE)) FROM raw.canonical_attendance"
    ).fetchall()
    pupil, _, upn = _on_roll(con, school, other=False)
    land_check_in(con, school_urn=school, upn=upn, day=str(day), time="09:15", note=FORMULA)
    save_note(con, pupil, "Settles with a familiar adult at the start of the day.", user_id=1)
    _, other_school, other_upn = _on_roll(con, school, other=True)
    now = datetime.now().replace(microsecond=0)
    form = {
        "day": now.date().isoformat(),
        "time": "08:50",
        "place": "Playground",
        "category": "neglect",
        "concern_text": ELSEWHERE,
        "people_present": "",
    }
    concerns.land_concern(
        con,
        concerns.check_concern(form, now=now),
        school_urn=other_school,
        upn=other_upn,
        staff="app-user-1",
        keys=TEST_KEYS,
        now=now,
    )
    result = land_demo_records(con, keys=TEST_KEYS, today=date.today(), seed=DEMO_SEED)
    assert result is not None and result.ok
    # A decision on a safeguarding trigger and the trust's own retention, as the pages save.
    [first, *_] = sorted(id_of(q) for q in SchoolAnalyticsCache().review_queue(con, school))
    card = find_card(con, first, scope=PupilScope.school(school), cache=SchoolAnalyticsCache())
    assert card is not None
    decided = parse_review(DECISION_RECORDED, {"decision": "early_help", "note": TRIGGER_NOTE})
    add_review(con, card, decided, user_id=1, username="dsl")
    save_settings(con, {"observations": 9}, user_id=1)
    con.close()
    yield Left(str(path), school, other_school, pupil)


def _files(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _raw_count(con: duckdb.DuckDBPyConnection, name: str, school: str) -> int:
    table, key, has_school = RAW[name]
    counted = "count(*)" if key is None else f"count(DISTINCT {key})"
    found = con.execute(
        f"SELECT {counted} FROM raw.canonical_{table} WHERE _batch_id IN "
        "(SELECT batch_id FROM meta.batches WHERE source LIKE 'app-%' OR source = 'capture')"
        + (" AND school_urn = ?" if has_school else ""),
        [school] if has_school else [],
    ).fetchone()
    assert found is not None
    return int(found[0])


def test_a_leaving_school_gets_every_record_it_entered_and_nothing_else(
    left: Left, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["leaving-export", "--school", left.school, "--out", str(out), "--warehouse", left.path]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    [zip_path] = out.glob(f"leaving-{left.school}-*.zip")
    assert stat.S_IMODE(zip_path.stat().st_mode) == 0o600
    assert [p.name for p in out.iterdir()] == [zip_path.name]  # no working files left
    files = _files(zip_path)
    tables = {n.removesuffix(".csv"): _csv(b) for n, b in files.items() if n.endswith(".csv")}
    text = {n: b.decode("utf-8-sig") for n, b in files.items() if not n.endswith(".pdf")}

    con = duckdb.connect(left.path, read_only=True)
    try:
        # Every record entered at the school, counted against what landed in raw.
        for name in RAW:
            assert len(tables[name]) == _raw_count(con, name, left.school) > 0, name
            assert f"{len(tables[name])}" in done.output
        enrolled = {
            str(r[0])
            for r in con.execute(
                "SELECT pupil_key FROM core.fct_enrolment WHERE school_urn = ?", [left.school]
            ).fetchall()
        }
        outcome, pupil = con.execute(
            "SELECT o.outcome_text, p.pupil_key FROM core.fct_plan_outcome AS o "
            "JOIN core.fct_plan AS p USING (plan_id) WHERE o.in_plan AND p.plan_version IS NOT "
            "NULL ORDER BY o.outcome_id LIMIT 1"
        ).fetchone() or ("", "")
        views, viewed = con.execute(
            "SELECT parent_views, pupil_key FROM core.fct_review_meeting "
            "WHERE parent_views IS NOT NULL ORDER BY meeting_id LIMIT 1"
        ).fetchone() or ("", "")
        [(sealed_concern,)] = con.execute(
            "SELECT concern_text FROM core.fct_concern WHERE school_urn = ? LIMIT 1",
            [left.school],
        ).fetchall()
        users = dict(con.execute("SELECT user_id, username FROM app.users").fetchall())
        names = {
            str(r[0]): IdentityReader(TEST_KEYS).name({"forename": r[1], "surname": r[2]})
            for r in con.execute(
                "SELECT pupil_key, forename, surname FROM core.pupil_identity"
            ).fetchall()
        }
    finally:
        con.close()

    # A plan outcome's words and a review's parents' views are in the pupil's document.
    assert outcome and outcome in text[f"pupils/{pupil}.html"]
    assert views in text[f"pupils/{viewed}.html"]
    assert any(r["Outcome text"] == outcome for r in tables["plan_outcomes"])
    # A concern's words only ever in the safeguarding folder; another school's nowhere.
    words = IdentityReader(TEST_KEYS).text(sealed_concern)
    holding = {n for n, t in text.items() if words and words in t}
    assert holding and all(n.startswith("safeguarding/") for n in holding)
    assert not any(ELSEWHERE in t for t in text.values())
    assert "safeguarding/P" not in text["index.html"]  # who has one: its own index only
    assert "safeguarding/index.html" in files
    # Only the school's pupils; each named, nothing left encrypted.
    exported = {r["Pupil key"] for rows in tables.values() for r in rows if r.get("Pupil key")}
    assert left.noted_pupil in exported and exported <= enrolled
    for rows in tables.values():
        for r in rows:
            if r.get("Pupil key"):
                assert r["Pupil name"] == names[r["Pupil key"]] != ""
    assert not any("enc1:" in t for t in text.values())
    [decision] = tables["safeguarding/trigger_reviews"]
    assert decision["Note"] == TRIGGER_NOTE and decision["Decided by"] == "dsl"
    assert decision["Decision"] == DECISIONS["early_help"]
    [kept] = tables["settings/retention_settings"]
    assert kept["Category"] == BY_KEY["observations"].label and kept["Years"] == "9"
    assert kept["Saved by"] == users[1]
    [note] = tables["pupil_notes"]
    assert note["Pupil key"] == left.noted_pupil and note["Note"].startswith("Settles")
    # A note shaped like a formula is text when the spreadsheet opens.
    [check_in] = tables["check_ins"]
    assert check_in["Note"] == "'" + FORMULA
    # Codes in words, staff by their account name, the attached report readable.
    assert {r["Rating"] for r in tables["review_ratings"]} <= {
        "much less than expected",
        "less than expected",
        "as expected",
        "more than expected",
        "much more than expected",
    }
    assert not any("app-user-" in t for t in text.values())
    reports = [n for n in files if n.startswith("contributions/")]
    assert reports and all(files[n].startswith(b"%PDF") for n in reports)
    assert "personal data" in text["README.txt"].lower() and "index.html" in files

    audit = duckdb.connect(left.path, read_only=True)
    try:
        [entry] = read_log(audit, event="leaving_export")
    finally:
        audit.close()
    detail = entry["detail"]
    assert detail["school_urn"] == left.school and detail["records"] > 0
    assert f"plans {len(tables['plans'])}" in detail["counts"]
    assert words not in json.dumps(detail) and outcome not in json.dumps(detail)


def test_an_unknown_school_is_refused_and_nothing_is_written(left: Left, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["leaving-export", "--school", "999999", "--out", str(out), "--warehouse", left.path]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 1
    assert "No school with URN 999999" in done.output
    assert not out.exists() or not any(out.iterdir())


def test_a_trust_leaving_gets_each_schools_export_in_turn(left: Left, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = CliRunner().invoke(
        app, ["leaving-export", "--all", "--out", str(out), "--warehouse", left.path]
    )
    assert done.exit_code == 0, done.output
    zips = {p.name.split("-")[1]: p for p in out.glob("leaving-*.zip")}
    assert {left.school, left.other_school} <= set(zips)
    other = _files(zips[left.other_school])
    holding = {n for n, b in other.items() if ELSEWHERE.encode() in b}
    assert holding and all(n.startswith("safeguarding/") for n in holding)
    assert _csv(other["plans.csv"]) == []  # the demo wrote its plans at the first school
