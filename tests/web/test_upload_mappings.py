"""The upload page's saved mappings: a file with headings nobody recognises waits while
its uploader says what each holds; the choices are saved as the school's mapping and the
file imported with it; the next upload offers the mapping; a school's mappings are its
own; bad choices are said beside the headings."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from web_fixtures import Trust, csrf_of, finished_import, one_value

from empowered.settings import Settings
from empowered.sources.mapping_builder import IGNORE, make_mapping
from empowered.sources.saved_mappings import save_mapping
from empowered.web.import_runs import uploads_root

SECRET = "test-pseudonym-key"  # the small trust's (tests/conftest.py): rows key to its pupils
HEADINGS = ["Pupil Number", "Given Names", "Family Names", "Born On", "Tutor Set", "Sibling Name"]
CHOICES = {
    "Pupil Number": "upn",
    "Given Names": "pupils.forename",
    "Family Names": "pupils.surname",
    "Born On": "pupils.date_of_birth",
    "Tutor Set": "characteristics.reg_group",
    "Sibling Name": IGNORE,
}


@pytest.fixture(scope="module", autouse=True)
def _settings(app_and_users: tuple[Any, dict[str, str]]) -> Iterator[None]:
    app = app_and_users[0]
    app.state.settings = Settings(pseudonym_key=SECRET)  # type: ignore[arg-type]
    yield
    app.state.settings = None


def _odd_file(small_trust: Path, school: str, first: int, count: int) -> bytes:
    """Pupils of ``school`` from the synthetic trust, under headings no layout knows."""
    with (small_trust / "pupils.csv").open(newline="", encoding="utf-8") as handle:
        pupils = [r for r in csv.DictReader(handle) if r["school_urn"] == school]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for p in pupils[first : first + count]:
        born = "/".join(reversed(p["date_of_birth"].split("-")))  # 14/03/2015
        writer.writerow([p["upn"], p["forename"], p["surname"], born, "7Z", "Sam Example"])
    return out.getvalue().encode("utf-8")


def _upload(client: TestClient, name: str, body: bytes, **data: str) -> Any:
    token = csrf_of(client.get("/imports").text)
    return client.post(
        "/imports",
        data={"csrf": token, "source": "auto", **data},
        files=[("files", (name, body, "text/csv"))],
        follow_redirects=False,
    )


def _field_of(page: str, heading: str) -> str:
    found = re.search(rf'<label for="(column-\d+)">{re.escape(heading)}</label>', page)
    assert found, f"no choice offered for {heading}"
    return found.group(1)


def _choose(
    client: TestClient, page: str, choices: dict[str, str], *, name: str, school: str, **extra: str
) -> Any:
    data = {
        "csrf": csrf_of(page),
        "token": re.findall(r'name="token" value="([0-9a-f]+)"', page)[0],
        "name": name,
        "school": school,
        **{_field_of(page, heading): value for heading, value in choices.items()},
        **extra,
    }
    return client.post("/imports/mapping", data=data, follow_redirects=False)


def test_odd_headings_are_explained_saved_and_the_file_imported(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    client = clients["senco"]
    app = client.app
    school = web_trust.school
    body = _odd_file(small_trust, school, 0, 4)
    runs = one_value(app, "SELECT count(*) FROM app.imports")
    asked = _upload(client, "our-list.csv", body, school=school)
    # Not imported yet: the page asks what each heading holds, in words.
    assert asked.status_code == 200, asked.text
    page = asked.text
    assert "Say what the headings hold" in page
    assert "did not recognise its headings" in page
    for heading in HEADINGS:
        _field_of(page, heading)
    assert ">UPN (unique pupil number)</option>" in page
    assert ">Registration, tutor or form group</option>" in page
    assert ">Not needed: leave it out</option>" in page
    assert one_value(app, "SELECT count(*) FROM app.imports") == runs  # nothing started yet
    assert len(list((uploads_root(app) / "waiting").iterdir())) == 1

    done = _choose(client, page, CHOICES, name="Our pupil list", school=school)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/imports/runs/")
    text = finished_import(client, done.headers["location"])
    assert "8 rows accepted, 0 quarantined" in text, text
    assert one_value(app, "SELECT count(*) FROM app.imports") == runs + 1
    assert one_value(app, "SELECT source FROM app.imports ORDER BY import_id DESC") == (
        "mapping our-pupil-list"
    )
    # The mapping is the school's, saved as the YAML a mapping file would hold.
    saved = one_value(
        app,
        "SELECT body FROM app.column_mappings WHERE school_urn = ? AND name = 'our-pupil-list'",
        [school],
    )
    assert saved is not None and "reg_group: Tutor Set" in saved
    # The rows are in, with the group chosen; the ignored sibling's name is not kept.
    import_id = int(done.headers["location"].rsplit("/", 1)[1])
    batches = "SELECT batch_id FROM app.import_batches WHERE import_id = ?"
    groups = one_value(
        app,
        f"SELECT list(reg_group) FROM raw.canonical_characteristics WHERE _batch_id IN ({batches})",
        [import_id],
    )
    assert groups == ["7Z"] * 4
    extras = one_value(
        app,
        "SELECT count(*) FROM raw.canonical_pupils "
        f"WHERE _batch_id IN ({batches}) AND _extra IS NOT NULL",
        [import_id],
    )
    assert extras == 0  # the sibling's name, ignored, is nowhere in raw
    # Audited by school and name only, and the waiting file is gone.
    detail = one_value(
        app, "SELECT detail FROM app.audit_log WHERE event = 'mapping_saved' ORDER BY event_id DESC"
    )
    assert detail is not None and '"our-pupil-list"' in detail and school in detail
    assert list((uploads_root(app) / "waiting").iterdir()) == []

    # The next upload offers the mapping, and a file laid out the same way is read by it
    # without asking again.
    key = f"{school}:our-pupil-list"
    offered = client.get("/imports").text
    # Offered by its name and its school's name.
    name = one_value(app, "SELECT school_name FROM core.dim_school WHERE school_urn = ?", [school])
    assert f'<option value="{key}">Our pupil list ({escape(name)})</option>' in offered
    again = _upload(client, "next.csv", _odd_file(small_trust, school, 4, 3), mapping=key)
    assert again.status_code == 303, again.text
    assert "6 rows accepted, 0 quarantined" in finished_import(client, again.headers["location"])


def test_a_schools_mappings_are_its_own(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    admin, senco = clients["trust_admin"], clients["senco"]
    app = admin.app
    other = web_trust.other_school
    made = make_mapping("Their list", None, CHOICES)
    with app.state.warehouse.recording() as con:  # type: ignore[attr-defined]
        save_mapping(con, other, made.document, saved_by=None)
    key = f"{other}:their-list"
    assert f'value="{key}"' in admin.get("/imports").text
    assert f'value="{key}"' not in senco.get("/imports").text
    # Naming it anyway is refused beside the field, and nothing is imported.
    runs = one_value(app, "SELECT count(*) FROM app.imports")
    refused = _upload(senco, "x.csv", _odd_file(small_trust, web_trust.school, 0, 1), mapping=key)
    assert refused.status_code == 400
    assert "Choose one of your saved mappings from the list." in refused.text
    assert one_value(app, "SELECT count(*) FROM app.imports") == runs
    # A file waiting for the trust admin's choices is not the SENCo's to decide.
    asked = _upload(admin, "y.csv", _odd_file(small_trust, other, 0, 1), school=other)
    assert asked.status_code == 200
    token = re.findall(r'name="token" value="([0-9a-f]+)"', asked.text)[0]
    stolen = senco.post(
        "/imports/mapping",
        data={"csrf": csrf_of(senco.get("/imports").text), "token": token, "action": "as_is"},
        follow_redirects=False,
    )
    assert stolen.status_code == 404
    assert one_value(app, "SELECT count(*) FROM app.imports") == runs
    cancelled = _choose(admin, asked.text, {}, name="", school=other, action="cancel")
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "/imports"
    assert list((uploads_root(app) / "waiting").iterdir()) == []


def test_bad_choices_are_said_beside_the_headings(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    client = clients["senco"]
    app = client.app
    school = web_trust.school
    page = _upload(client, "bad.csv", _odd_file(small_trust, school, 0, 2), school=school).text
    saved = one_value(app, "SELECT count(*) FROM app.column_mappings")
    twice = _choose(
        client, page, {**CHOICES, "Sibling Name": "pupils.forename"}, name="x", school=school
    )
    assert twice.status_code == 400
    field = _field_of(twice.text, "Sibling Name")
    assert f'<p class="error" id="{field}-error">First name already comes from the heading' in (
        twice.text
    )
    assert f'href="#{field}"' in twice.text  # the summary links to the field
    # The choices made are kept on the page.
    assert '<option value="pupils.surname" selected>' in twice.text
    no_upn = _choose(
        client, twice.text, {**CHOICES, "Pupil Number": IGNORE}, name="x", school=school
    )
    assert no_upn.status_code == 400
    field = _field_of(no_upn.text, "Given Names")
    assert re.search(rf'id="{field}-error">This needs a heading for UPN', no_upn.text)
    unnamed = _choose(client, no_upn.text, CHOICES, name="  ", school=school)
    assert unnamed.status_code == 400
    assert 'id="name-error">Give the mapping a name' in unnamed.text
    assert one_value(app, "SELECT count(*) FROM app.column_mappings") == saved
    # The form needs its token, like every other.
    forged = client.post("/imports/mapping", data={"csrf": "forged", "token": "0" * 32})
    assert forged.status_code == 400
    # Or imported as it is, without a mapping: nothing reads it, and the page says so.
    as_is = _choose(client, unnamed.text, {}, name="", school=school, action="as_is")
    assert as_is.status_code == 303
    text = finished_import(client, as_is.headers["location"])
    assert "Not a format EmpowerED+ recognises, so left out: bad.csv." in text


def test_a_partly_recognised_file_is_asked_only_about_its_unread_headings(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    client = clients["senco"]
    school = web_trust.school
    body = _odd_file(small_trust, school, 10, 3).replace(
        b"Pupil Number,Given Names,Family Names,Born On,Tutor Set,Sibling Name",
        b"UPN,Forename,Surname,DOB,Tutor Set,Sibling Name",
    )
    asked = _upload(client, "partly.csv", body, school=school)
    assert asked.status_code == 200, asked.text
    assert "read it as a pupil list" in asked.text
    assert re.findall(r'<label for="column-\d+">([^<]+)</label>', asked.text) == [
        "Tutor Set",
        "Sibling Name",
    ]
    done = _choose(
        client,
        asked.text,
        {"Tutor Set": "characteristics.reg_group", "Sibling Name": IGNORE},
        name="Pupil list with tutor sets",
        school=school,
    )
    assert done.status_code == 303, done.text
    assert "6 rows accepted, 0 quarantined" in finished_import(client, done.headers["location"])
    mapping = one_value(
        client.app,
        "SELECT body FROM app.column_mappings WHERE name = 'pupil-list-with-tutor-sets'",
    )
    assert "forename: Forename" in mapping and "reg_group: Tutor Set" in mapping


REGISTER = ["Pupil Number", "Need Description", "Priority", "From", "Until", "SEN Status"]


def test_a_register_with_odd_headings_is_mapped_from_its_own_columns(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    client = clients["senco"]
    app = client.app
    school = web_trust.school
    with (small_trust / "pupils.csv").open(newline="", encoding="utf-8") as handle:
        upns = [r["upn"] for r in csv.DictReader(handle) if r["school_urn"] == school][20:22]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REGISTER)
    for upn in upns:
        writer.writerow([upn, "SPLD", "1", "01/09/2024", "", "SEN Support"])
        writer.writerow([upn, "SLCN", "2", "15/01/2025", "31/07/2026", "SEN Support"])
    asked = _upload(client, "register.csv", out.getvalue().encode("utf-8"), school=school)
    assert asked.status_code == 200, asked.text
    page = asked.text
    # Asked about as a register: its own columns in words, not a pupil list's.
    assert "it looks like a SEN register" in page
    assert ">Rank of the need (1 is the main need)</option>" in page
    assert ">UPN (unique pupil number)</option>" in page
    assert ">First name</option>" not in page
    chosen = {
        "Pupil Number": "upn",
        "Need Description": "sen_needs.need_type",
        "Priority": "sen_needs.need_rank",
        "From": "sen_needs.start_date",
        "Until": "sen_needs.end_date",
        "SEN Status": "sen_status.sen_provision",
    }
    # A rank without the need it ranks is said beside the rank.
    no_need = _choose(
        client, page, {**chosen, "Need Description": IGNORE}, name="Our register", school=school
    )
    assert no_need.status_code == 400
    field = _field_of(no_need.text, "Priority")
    assert re.search(rf'id="{field}-error">This needs a heading for Type of SEN need', no_need.text)
    done = _choose(client, no_need.text, chosen, name="Our register", school=school)
    assert done.status_code == 303, done.text
    text = finished_import(client, done.headers["location"])
    assert "0 quarantined" in text, text
    import_id = int(done.headers["location"].rsplit("/", 1)[1])
    batches = "SELECT batch_id FROM app.import_batches WHERE import_id = ?"
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        needs = con.execute(
            "SELECT need_type, need_rank, start_date, end_date FROM raw.canonical_sen_needs "
            f"WHERE _batch_id IN ({batches}) ORDER BY _source_row",
            [import_id],
        ).fetchall()
    assert (
        needs
        == [
            ("SPLD", "1", "2024-09-01", None),
            ("SLCN", "2", "2025-01-15", "2026-07-31"),
        ]
        * 2
    )
