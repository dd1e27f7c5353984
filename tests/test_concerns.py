"""Safeguarding concerns: checked as staging checks them, landed in raw as a source of their
own, typed and quarantined by staging, and kept in core with their words as ciphertext."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from empowered import concerns
from empowered.identity import IdentityReader
from empowered.sources.canonical import APP_ENTITIES
from empowered.sources.landing import land_app_record
from identity_keys import TEST_KEYS

NOW = datetime(2026, 3, 10, 11, 30)
WORDS = "Said that nobody was at home last night and there was no tea again"


def a_pupil(con: duckdb.DuckDBPyConnection) -> tuple[str, str, str]:
    row = con.execute(
        "SELECT i.pupil_key, i.school_urn, i.upn FROM core.pupil_identity AS i "
        "JOIN core.fct_enrolment AS e USING (pupil_key, school_urn) "
        "WHERE e.is_on_roll ORDER BY i.pupil_key LIMIT 1"
    ).fetchone()
    assert row
    return str(row[0]), str(row[1]), str(IdentityReader(TEST_KEYS).upn(row[2]))


def good_form(**changes: str) -> dict[str, str]:
    form = {
        "day": "2026-03-09",
        "time": "08:50",
        "place": "Breakfast club",
        "category": "neglect",
        "concern_text": WORDS,
        "people_present": "Another teaching assistant",
    }
    return form | changes


def test_the_form_says_what_staging_would_reject_beside_each_field() -> None:
    checked = concerns.check_concern(
        good_form(day="2026-03-11", time="25:99", category="bruise", concern_text="  "), now=NOW
    )
    assert set(checked.errors) == {"day", "time", "category", "concern_text"}
    assert concerns.check_concern(good_form(), now=NOW).ok
    too_long = concerns.check_concern(good_form(concern_text="x" * 4001), now=NOW)
    assert "4001 characters" in too_long.errors["concern_text"]


def test_every_category_is_one_staging_allows_and_has_plain_words() -> None:
    from empowered.warehouse.models import discover_models

    model = discover_models()["staging.stg_canonical_concerns"]
    allowed = model.path.read_text().split("values: [", 1)[1].split("]", 1)[0].split(", ")
    assert sorted(allowed) == sorted(code for code, _ in concerns.CATEGORIES)
    assert all(words and "_" not in words for _, words in concerns.CATEGORIES)


def test_a_concern_lands_encrypted_and_reaches_core_with_who_recorded_it(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    pupil, school, upn = a_pupil(con)
    now = datetime.now().replace(microsecond=0)
    checked = concerns.check_concern(good_form(day=now.date().isoformat()), now=now)
    landed = concerns.land_concern(
        con,
        checked,
        school_urn=school,
        upn=upn,
        staff="app-user-4",
        keys=TEST_KEYS,
        now=now,
        key="k" * 20,
    )
    # The same form posted again (a double tap) lands nothing more.
    again = concerns.land_concern(
        con,
        checked,
        school_urn=school,
        upn=upn,
        staff="app-user-4",
        keys=TEST_KEYS,
        now=now,
        key="k" * 20,
    )
    assert landed.batch_id is not None and again.batch_id is None
    source = con.execute(
        "SELECT source FROM meta.batches WHERE batch_id = ?", [landed.batch_id]
    ).fetchone()
    assert source == ("app-concern",)
    raw = con.execute(
        "SELECT concern_text, people_present, upn FROM raw.canonical_concerns"
    ).fetchall()
    assert len(raw) == 1 and all(str(v).startswith("enc1:") for v in raw[0])
    assert concerns.build(con, landed).ok
    row = con.execute(
        "SELECT pupil_key, category, concern_text, recorded_by, source_file "
        "FROM core.fct_concern WHERE concern_id = ?",
        [landed.record_id],
    ).fetchone()
    assert row is not None
    assert row[0] == pupil and row[1] == "neglect" and row[3] == "app-user-4"
    assert IdentityReader(TEST_KEYS).text(row[2]) == WORDS

    shared = concerns.land_event(
        con,
        school_urn=school,
        concern_id=landed.record_id,
        event="shared",
        staff="app-user-2",
        by="app-user-3",
        keys=TEST_KEYS,
        now=now,
    )
    stray = concerns.land_event(
        con,
        school_urn=school,
        concern_id="SC-nothing",
        event="acknowledged",
        by="app-user-3",
        keys=TEST_KEYS,
        now=now,
    )
    assert concerns.build(con, shared).ok
    events = con.execute("SELECT event, staff FROM core.fct_concern_event").fetchall()
    assert events == [("shared", "app-user-2")]
    rejected = con.execute(
        "SELECT column_name, reason FROM quarantine.rejected_rows WHERE batch_id = ?",
        [stray.batch_id],
    ).fetchall()
    assert rejected == [("concern_id", "is not a concern recorded at this school")]


def test_staging_quarantines_a_concern_the_form_would_have_refused(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    _, school, upn = a_pupil(con)
    future = (date.today() + timedelta(days=3)).isoformat()
    batch = land_app_record(
        con,
        APP_ENTITIES["concerns"],
        {
            "concern_id": "SC-bad",
            "school_urn": school,
            "upn": upn,
            "concern_on": future,
            "concern_time": "09:00",
            "category": "bruise",
            "concern_text": "words",
            "recorded_by": "app-user-1",
        },
        source=concerns.SOURCE,
        file_name="test",
        seed="bad",
        keys=TEST_KEYS,
    )
    from empowered.warehouse.build import build_duckdb

    assert build_duckdb(con, touched={"raw.canonical_concerns"}).ok
    reasons = con.execute(
        "SELECT column_name, reason FROM quarantine.rejected_rows WHERE batch_id = ?", [batch]
    ).fetchall()
    assert reasons == [("concern_on", "is in the future")]
    assert con.execute("SELECT count(*) FROM core.fct_concern").fetchone() == (0,)


@pytest.mark.parametrize(
    ("form", "wrong"),
    [
        ({"received_on": "", "new_school": "x"}, {"received_on"}),
        ({"received_on": "2026-03-09", "new_school": ""}, {"new_school"}),
        (
            {"sent_on": "2026-03-09", "received_on": "2026-03-05", "new_school": "x"},
            {"received_on"},
        ),
        ({"received_on": "2026-03-12", "new_school": "x"}, {"received_on"}),
    ],
)
def test_the_file_record_is_checked(form: dict[str, str], wrong: set[str]) -> None:
    checked = concerns.check_cp_file(form, now=NOW, leaving_date=date(2026, 3, 2))
    assert set(checked.errors) == wrong


def test_a_received_file_lands_with_the_new_school_encrypted(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    pupil, school, upn = a_pupil(con)
    now = datetime.now().replace(microsecond=0)
    checked = concerns.check_cp_file(
        {
            "sent_on": now.date().isoformat(),
            "received_on": now.date().isoformat(),
            "new_school": "Riverside Academy",
        },
        now=now,
        leaving_date=None,
    )
    landed = concerns.land_cp_file(
        con, checked, school_urn=school, upn=upn, staff="app-user-3", keys=TEST_KEYS, now=now
    )
    assert concerns.build(con, landed).ok
    row = con.execute("SELECT pupil_key, new_school FROM core.fct_cp_file_transfer").fetchone()
    assert row is not None and row[0] == pupil and str(row[1]).startswith("enc1:")
