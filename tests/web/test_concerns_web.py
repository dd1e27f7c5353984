"""Safeguarding concerns in the web app: any member of staff records one; only the designated
safeguarding lead (DSL), and those the DSL shares it with, can read it."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of, one_value

from empowered.access.audit import read_log

WORDS = "Said her uncle shouts at night and she hides under the stairs until it stops"
PEOPLE = "Lunchtime supervisor on the bench"


def record(client: TestClient, pupil: str, **changes: str) -> tuple[int, str]:
    form = client.get(f"/concerns/new?pupil={pupil}")
    assert form.status_code == 200
    data = {
        "csrf": csrf_of(form.text),
        "pupil": pupil,
        "form_key": re.search(r'name="form_key" value="([^"]+)"', form.text).group(1),  # type: ignore[union-attr]
        "category": "emotional",
        "concern_text": WORDS,
        "people_present": PEOPLE,
        "place": "Playground",
    } | changes
    response = client.post("/concerns/new", data=data)
    return response.status_code, response.text


def concern_id(html: str) -> str:
    found = re.search(r"Reference: <strong>(SC-[0-9]+-[0-9a-f]+)</strong>", html)
    assert found, "the receipt gives the concern's reference"
    return found.group(1)


def test_a_teacher_records_a_concern_that_only_the_dsl_reads(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    pupil = web_trust.in_group[0]
    status, receipt = record(clients["teacher"], pupil)
    assert status == 200
    assert "Passed to the designated safeguarding lead" in receipt
    assert WORDS not in receipt and PEOPLE not in receipt
    cid = concern_id(receipt)
    teacher = clients["teacher"]
    # The recorder cannot read it back: not the list, not the concern, not the chronology.
    assert teacher.get("/concerns").status_code == 403
    assert teacher.get(f"/concerns/{cid}").status_code == 404
    assert teacher.get(f"/pupils/{pupil}/chronology").status_code == 403

    dsl = clients["dsl"]
    home = dsl.get("/").text
    assert f'href="/concerns/{cid}"' in home and 'data-section="home.concerns"' in home
    assert WORDS not in home  # the home page lists; the words are read on the concern's page
    page = dsl.get(f"/concerns/{cid}")
    assert page.status_code == 200 and WORDS in page.text and PEOPLE in page.text
    assert "teacher" in page.text  # who recorded it
    chronology = dsl.get(f"/pupils/{pupil}/chronology").text
    assert WORDS in chronology and "teacher, in EmpowerED+" in chronology
    assert dsl.get("/concerns").status_code == 200

    for role in ("senco", "teacher", "teaching_assistant", "visiting_professional", "trust_admin"):
        client = clients[role]
        for url in ("/", f"/pupils/{pupil}"):
            html = client.get(url).text
            assert WORDS not in html and cid not in html, (role, url)
        assert client.get(f"/concerns/{cid}").status_code in (403, 404), role

    app = dsl.app
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        recorded = read_log(con, event="concern_recorded", pupil_key=pupil)
        opened = read_log(con, event="concern_opened", pupil_key=pupil)
    assert [e["username"] for e in recorded] == ["teacher"]
    assert {e["page"] for e in opened} == {"concern", "chronology"}
    assert all(e["username"] == "dsl" for e in opened)
    assert all(WORDS not in str(e["detail"]) for e in recorded + opened)


def test_the_form_says_what_is_wrong_beside_the_field_and_passes_nothing_on(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    before = one_value(clients["teacher"].app, "SELECT count(*) FROM raw.canonical_concerns")
    status, html = record(
        clients["teaching_assistant"], web_trust.in_group[0], concern_text="", category=""
    )
    assert status == 422
    assert 'id="e-concern_text"' in html and 'id="e-category"' in html
    assert "Not passed on yet" in html
    after = one_value(clients["teacher"].app, "SELECT count(*) FROM raw.canonical_concerns")
    assert after == before


def test_a_double_post_of_the_same_form_is_one_concern(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    client = clients["senco"]
    pupil = web_trust.same_school_other
    form = client.get(f"/concerns/new?pupil={pupil}").text
    key = re.search(r'name="form_key" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    data = {
        "csrf": csrf_of(form),
        "pupil": pupil,
        "form_key": key,
        "category": "neglect",
        "concern_text": "Came in without a coat again in the snow",
    }
    first = client.post("/concerns/new", data=data)
    second = client.post("/concerns/new", data=data)
    assert first.status_code == second.status_code == 200
    count = one_value(
        client.app,
        "SELECT count(*) FROM core.fct_concern WHERE pupil_key = ?",
        [pupil],
    )
    assert count == 1


def test_the_dsl_acknowledges_and_shares_and_the_shared_account_may_read(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    pupil = web_trust.in_group[1]
    _, receipt = record(clients["teaching_assistant"], pupil, concern_text="Flinched when touched")
    cid = concern_id(receipt)
    dsl, senco = clients["dsl"], clients["senco"]
    assert senco.get(f"/concerns/{cid}").status_code == 404
    page = dsl.get(f"/concerns/{cid}").text
    senco_id = re.search(r'<option value="(\d+)">senco \(', page)
    assert senco_id, "the SENCo is offered as a member of staff at the school"
    assert "visiting-professional" not in page and "trust-admin" not in page
    token = csrf_of(page)
    refused = dsl.post(f"/concerns/{cid}/share", data={"csrf": token, "staff": "99999"})
    assert refused.status_code == 400 and "Choose a member of staff" in refused.text
    shared = dsl.post(f"/concerns/{cid}/share", data={"csrf": token, "staff": senco_id.group(1)})
    assert shared.status_code == 200 and "Shared with senco" in shared.text
    assert "Flinched when touched" in senco.get(f"/concerns/{cid}").text
    assert f"/concerns/{cid}" in senco.get("/").text  # "shared with you" on their home page
    assert clients["teacher"].get(f"/concerns/{cid}").status_code == 404
    # A SENCo it was shared with reads it, but does not act on it.
    assert senco.post(f"/concerns/{cid}/acknowledge", data={"csrf": token}).status_code == 403
    assert f'href="/concerns/{cid}"' in dsl.get("/").text
    done = dsl.post(f"/concerns/{cid}/acknowledge", data={"csrf": token})
    assert done.status_code == 200 and "Acknowledged" in done.text
    home = dsl.get("/").text
    assert f'href="/concerns/{cid}"' not in home  # no longer waiting


def test_a_visitor_with_the_safeguarding_area_reads_no_concern(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """Concerns are not the safeguarding area's mart data: a visitor given that area still
    has no way to them (the policy: VIEW_CONCERNS is the DSL's only)."""
    from dataclasses import replace

    from empowered.access.policy import Permission, has, may_read_concern, scope_for
    from empowered.access.sections import Section
    from empowered.access.users import find_user

    app = clients["dsl"].app
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        visitor = find_user(con, "visiting-professional")
        assert visitor is not None
        scope = scope_for(con, replace(visitor, areas=("safeguarding",)), today=date.today())
    from empowered.access.policy import may_see_section

    assert "safeguarding" in (scope.areas or ())
    assert not has(scope, Permission.VIEW_CONCERNS)
    assert not may_read_concern(scope, web_trust.school, frozenset({visitor.user_id}))
    assert not any(
        may_see_section(scope, s)
        for s in (Section.HOME_CONCERNS, Section.CHRONOLOGY, Section.CONCERNS_LIST)
    )


def test_the_dsl_is_reminded_of_a_leavers_file_until_it_is_recorded(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    dsl = clients["dsl"]
    app = dsl.app
    leaver = one_value(
        app,
        "SELECT pupil_key FROM core.fct_enrolment WHERE school_urn = ? "
        "AND leaving_date IS NOT NULL AND leaving_date >= current_date - 365 ORDER BY 1",
        [web_trust.school],
    )
    assert leaver, "the small trust has a leaver at the DSL's school"
    home = dsl.get("/").text
    assert 'data-section="home.cp_files"' in home
    assert f'action="/pupils/{leaver}/cp-file"' in home
    assert "within five school days" in home
    for role in ("senco", "teacher"):
        assert 'data-section="home.cp_files"' not in clients[role].get("/").text
    token = csrf_of(home)
    wrong = dsl.post(f"/pupils/{leaver}/cp-file", data={"csrf": token, "new_school": ""})
    assert wrong.status_code == 422 and "Name the school" in wrong.text
    today = date.today().isoformat()
    done = dsl.post(
        f"/pupils/{leaver}/cp-file",
        data={"csrf": token, "new_school": "Hillside Primary", "received_on": today},
    )
    assert done.status_code == 200
    assert f'action="/pupils/{leaver}/cp-file"' not in done.text
    assert "Hillside Primary" in dsl.get(f"/pupils/{leaver}/chronology?kind=cp_file").text
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        assert read_log(con, event="cp_file_recorded", pupil_key=leaver)


def test_another_schools_concern_is_not_found_even_for_the_dsl(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    from datetime import datetime

    from empowered import concerns
    from empowered.identity import IdentityReader
    from identity_keys import TEST_KEYS

    app = clients["dsl"].app
    upn = one_value(
        app,
        "SELECT upn FROM core.pupil_identity WHERE pupil_key = ? AND school_urn = ?",
        [web_trust.other_school_pupil, web_trust.other_school],
    )
    now = datetime.now().replace(microsecond=0)
    checked = concerns.check_concern(
        {"category": "online", "concern_text": "Shared a worrying message"}, now=now
    )
    with app.state.warehouse.writing() as con:  # type: ignore[attr-defined]
        landed = concerns.land_concern(
            con,
            checked,
            school_urn=web_trust.other_school,
            upn=str(IdentityReader(TEST_KEYS).upn(upn)),
            staff="app-user-999",
            keys=TEST_KEYS,
            now=now,
        )
        assert concerns.build(con, landed).ok
    for role, client in clients.items():
        response = client.get(f"/concerns/{landed.record_id}")
        assert response.status_code in (403, 404), role
        assert "worrying message" not in response.text
    assert "worrying message" not in clients["dsl"].get("/concerns").text
    assert (
        clients["dsl"].get(f"/pupils/{web_trust.other_school_pupil}/chronology").status_code == 404
    )


def test_the_import_pages_never_list_a_concern_batch(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """Not even that a concern was recorded, or when: the trust admin's import list covers
    every batch of every school, so concern batches are left out of it."""
    _, receipt = record(clients["teacher"], web_trust.in_group[2], concern_text="Seemed afraid")
    cid = concern_id(receipt)
    batch = one_value(
        clients["dsl"].app,
        "SELECT batch_id FROM core.fct_concern WHERE concern_id = ?",
        [cid],
    )
    assert batch is not None
    for role in ("trust_admin", "senco"):
        listing = clients[role].get("/imports").text
        assert "concern recorded in the app" not in listing, role
        assert clients[role].get(f"/imports/{batch}").status_code == 404, role
