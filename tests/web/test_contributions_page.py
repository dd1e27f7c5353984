"""A visiting professional adds a note and a report about their named pupil (issue 13,
item 6); it shows on the pupil's page with its provenance to those who may see its area,
the report downloads through the policy, and every step is audited."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, Trust, csrf_of, one_value, signed_in

from empowered.access import auth_cache
from empowered.access.audit import read_log
from empowered.access.users import add_user
from empowered.synth.app_contributions import minimal_pdf

pytestmark = pytest.mark.slow

PDF = minimal_pdf(["Speech and language therapy: assessment summary", "Made-up text only."])
ORGANISATION = "Speech and language therapy service"


@pytest.fixture(scope="module")
def slt(app_and_users: tuple[object, dict[str, str]], web_trust: Trust) -> TestClient:
    """A speech and language therapist: the teacher's first pupil, wellbeing only."""
    app, _ = app_and_users
    with app.state.warehouse.recording() as con:  # type: ignore[attr-defined]
        add_user(
            con,
            "slt-visitor",
            PASSWORD,
            "visiting_professional",
            school_urn=web_trust.school,
            pupils=(web_trust.in_group[0],),
            areas=("wellbeing",),
            expires_on=date.today() + timedelta(days=10),
            organisation=ORGANISATION,
        )
    return signed_in(app, "slt-visitor")


def _form(client: TestClient, pupil: str) -> str:
    response = client.get(f"/pupils/{pupil}/contributions/new")
    assert response.status_code == 200, response.text[:300]
    return csrf_of(response.text)


def _post(
    client: TestClient, pupil: str, *, report: tuple[str, bytes] | None = None, **fields: str
) -> object:
    data = {
        "csrf": _form(client, pupil),
        "area": "wellbeing",
        "title": "Speech and language assessment",
        "note": "Follows two-step instructions with a visual prompt; advise a word mat.",
        "visited_on": (date.today() - timedelta(days=2)).isoformat(),
        **fields,
    }
    files = {"report": (report[0], report[1], "application/pdf")} if report else None
    return client.post(
        f"/pupils/{pupil}/contributions/new", data=data, files=files, follow_redirects=False
    )


def _landed(client: TestClient) -> int:
    return int(one_value(client.app, "SELECT count(*) FROM raw.canonical_contributions") or 0)


def test_the_form_offers_only_the_visitors_areas_and_names_who_they_are(
    slt: TestClient, web_trust: Trust
) -> None:
    html = slt.get(f"/pupils/{web_trust.in_group[0]}/contributions/new").text
    assert re.findall(r'<option value="([a-z]+)"', html) == ["wellbeing"]
    assert "slt-visitor, Visiting professional, " + ORGANISATION in html
    assert 'enctype="multipart/form-data"' in html and '<label for="f-report">' in html


def test_a_visitor_adds_a_note_with_a_report_and_it_shows_with_its_provenance(
    slt: TestClient, clients: dict[str, TestClient], web_trust: Trust
) -> None:
    pupil = web_trust.in_group[0]
    response = _post(slt, pupil, report=("assessment.pdf", PDF))
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = slt.get(response.headers["location"]).text  # type: ignore[attr-defined]
    section = page.split('id="contributions"', 1)[1].split("</section>", 1)[0]
    assert "Speech and language assessment" in section
    assert "advise a word mat" in section
    # Who, role, organisation, when, and which form: the provenance.
    assert re.search(
        r"Entered by slt-visitor, Visiting professional, Speech and language therapy service, "
        r"on \d+ \w+ \d{4} at \d\d:\d\d, through the visiting professional’s note form",
        section,
    ), section
    link = re.search(r'href="(/pupils/[^"]+/report)"', section)
    assert link and "assessment.pdf" in section
    # The report comes back as it was sent, to whoever may see the area, and is audited.
    for who in (slt, clients["teacher"], clients["senco"]):
        got = who.get(link.group(1))
        assert got.status_code == 200 and got.content == PDF
        assert got.headers["content-type"] == "application/pdf"
        assert "attachment" in got.headers["content-disposition"]
    with slt.app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        added = read_log(con, event="contribution_added", pupil_key=pupil)
        opened = read_log(con, event="contribution_file_opened", pupil_key=pupil)
    assert [e["username"] for e in added] == ["slt-visitor"]
    assert "assessment" not in str(added)  # never the file's name or the note's words
    assert {e["username"] for e in opened} == {"slt-visitor", "teacher", "senco"}
    # The teacher and the pupil's other visitor (both see wellbeing) read it on the page.
    assert "advise a word mat" in clients["teacher"].get(f"/pupils/{pupil}").text
    other_visitor = clients["visiting_professional"]  # wellbeing and strategies
    assert "advise a word mat" in other_visitor.get(f"/pupils/{pupil}").text
    # Another pupil's key with this contribution's id reveals nothing.
    other = link.group(1).replace(pupil, web_trust.in_group[1])
    assert clients["senco"].get(other).status_code == 404


def test_a_report_in_an_area_the_reader_may_not_see_is_neither_shown_nor_served(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    pupil = web_trust.in_group[0]
    senco = clients["senco"]
    response = _post(
        senco,
        pupil,
        report=("reading.pdf", PDF),
        area="learning",
        title="Advice from the specialist teacher",
        note="Daily precision teaching of high-frequency words.",
    )
    assert response.status_code == 303  # type: ignore[attr-defined]
    html = senco.get(f"/pupils/{pupil}").text
    link = re.search(r'href="(/pupils/[^"]+/report)" download>Download the report: reading', html)
    assert link and "Entered by senco, SENCo" in html
    visitor = clients["visiting_professional"]  # wellbeing and strategies only
    assert "precision teaching" not in visitor.get(f"/pupils/{pupil}").text
    assert visitor.get(link.group(1)).status_code == 404
    assert clients["teacher"].get(link.group(1)).status_code == 200  # learning is theirs


@pytest.mark.parametrize(
    ("report", "fields", "field", "says"),
    [
        (("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100), {}, "report", "not a PDF"),
        (("letter.docx", b"PK\x03\x04" + b"0" * 100), {}, "report", "not a PDF"),
        (None, {"area": "learning"}, "area", "Choose one of your areas"),
        (None, {"title": ""}, "title", "short title"),
        (None, {"visited_on": "2099-01-05"}, "visited_on", "in the future"),
    ],
)
def test_a_wrong_form_is_refused_beside_the_field_and_nothing_lands(
    slt: TestClient,
    web_trust: Trust,
    report: tuple[str, bytes] | None,
    fields: dict[str, str],
    field: str,
    says: str,
) -> None:
    before = _landed(slt)
    response = _post(slt, web_trust.in_group[0], report=report, **fields)
    assert response.status_code == 422  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    error = re.search(rf'<p class="error" id="e-{field}">Error: ([^<]+)</p>', html)
    assert error and says in error.group(1), html[:2000]
    assert f'aria-describedby="e-{field}"' in html or f'e-{field}"' in html
    assert _landed(slt) == before


def test_too_big_a_report_is_refused(slt: TestClient, web_trust: Trust) -> None:
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF\n"
    before = _landed(slt)
    response = _post(slt, web_trust.in_group[0], report=("big.pdf", big))
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "larger than 10 MB" in response.text  # type: ignore[attr-defined]
    assert _landed(slt) == before


def test_a_pupil_not_named_on_the_account_is_refused_and_audited(
    slt: TestClient, web_trust: Trust
) -> None:
    other = web_trust.in_group[1]
    assert slt.get(f"/pupils/{other}/contributions/new").status_code == 404
    csrf = _form(slt, web_trust.in_group[0])
    response = slt.post(
        f"/pupils/{other}/contributions/new",
        data={"csrf": csrf, "area": "wellbeing", "title": "x", "note": "y"},
    )
    assert response.status_code == 404
    with slt.app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        refused = read_log(con, event="access_refused", pupil_key=other)
    assert any(e["username"] == "slt-visitor" for e in refused)


def test_after_the_expiry_date_the_visitor_adds_nothing(
    app_and_users: tuple[object, dict[str, str]], web_trust: Trust
) -> None:
    app, _ = app_and_users
    with app.state.warehouse.recording() as con:  # type: ignore[attr-defined]
        add_user(
            con,
            "ep-expiring",
            PASSWORD,
            "visiting_professional",
            school_urn=web_trust.school,
            pupils=(web_trust.in_group[0],),
            areas=("wellbeing",),
            expires_on=date.today() + timedelta(days=1),
        )
    client = signed_in(app, "ep-expiring")
    csrf = _form(client, web_trust.in_group[0])
    # The expiry date passes (an account cannot be given one in the past).
    with app.state.warehouse.recording() as con:  # type: ignore[attr-defined]
        con.execute(
            "UPDATE app.users SET expires_on = ? WHERE username = 'ep-expiring'",
            [date.today() - timedelta(days=1)],
        )
    auth_cache.changed()
    before = _landed(client)
    posted = client.post(
        f"/pupils/{web_trust.in_group[0]}/contributions/new",
        data={"csrf": csrf, "area": "wellbeing", "title": "x", "note": "y"},
        follow_redirects=False,
    )
    assert posted.status_code in (303, 403, 404)
    assert _landed(client) == before


def test_timeline_entries_say_where_they_came_from(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """Provenance beyond the notes: a check-in captured in the app names who entered it and
    the form; an imported one names the file it came from and when it was imported."""
    from empowered.web.capture import rebuilder

    teacher = clients["teacher"]
    # A pupil of the teacher's group with check-ins imported from the trust's files.
    pupil = one_value(
        teacher.app,
        "SELECT pupil_key FROM core.fct_observation WHERE list_contains(?, pupil_key) "
        "ORDER BY observed_on DESC, pupil_key LIMIT 1",
        [list(web_trust.in_group)],
    )
    assert pupil
    form = teacher.get(f"/capture/{pupil}?kind=check_in").text
    key = re.search(r'name="capture_key" value="([^"]+)"', form)
    assert key
    saved = teacher.post(
        f"/capture/{pupil}",
        data={
            "csrf": csrf_of(form),
            "kind": "check_in",
            "capture_key": key.group(1),
            "mood": "4",
            "engagement": "4",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert rebuilder(teacher.app).flush()  # type: ignore[arg-type]
    html = teacher.get(f"/pupils/{pupil}").text
    timeline = html.split('id="timeline"', 1)[1]
    entries = re.findall(r"<li data-area[^>]*>(.*?)</li>", timeline, re.S)
    captured = [e for e in entries if "through the quick capture form" in e]
    assert captured and "Entered by teacher, Teacher, on " in captured[0]
    assert "check in: Check-in: mood 4" in captured[0]
    imported = [e for e in entries if "Imported, on " in e]
    assert imported, "\n".join(entries[:14])
    assert "from the EmpowerED+ import file observations.csv" in html


def test_every_kind_of_recorded_entry_says_where_it_came_from(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """Not only check-ins: an incident, an action, an intervention and a plan review on the
    pupil page's timeline each name the file and system they were imported from."""
    senco = clients["senco"]
    pupil = one_value(
        senco.app,
        "SELECT i.pupil_key FROM core.fct_behaviour_incident AS i "
        "JOIN core.fct_action AS a USING (pupil_key) "
        "JOIN core.fct_provision_enrolment AS e USING (pupil_key) "
        "WHERE i.school_urn = ? ORDER BY 1 LIMIT 1",
        [web_trust.school],
    )
    assert pupil
    timeline = senco.get(f"/pupils/{pupil}").text.split('id="timeline"', 1)[1]
    for source in ("incidents.csv", "actions.csv", "provision_enrolments.csv"):
        assert f"from the EmpowerED+ import file {source}" in timeline, source
