"""The one-sentence note on a complex child's page: the SENCo writes it, everyone who may
open the page reads it, and nobody else can write one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pupil(app_and_users: tuple[Any, dict[str, str]], web_trust: Trust) -> str:
    """A pupil with an EHC plan at the SENCo's school, in the teacher's group if any is."""
    with app_and_users[0].state.warehouse.reading() as con:
        found = con.execute(
            "SELECT pupil_key FROM marts.register_pupil WHERE school_urn = ? "
            "AND sen_provision = 'E' ORDER BY list_contains(?, pupil_key) DESC, pupil_key LIMIT 1",
            [web_trust.school, web_trust.in_group],
        ).fetchone()
    assert found
    return str(found[0])


def post_note(client: TestClient, pupil: str, note: str) -> tuple[int, str]:
    page = client.get(f"/pupils/{pupil}")
    response = client.post(
        f"/pupils/{pupil}/note",
        data={"note": note, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    return response.status_code, response.text


def test_the_senco_writes_a_note_and_it_heads_the_page(
    clients: dict[str, TestClient], pupil: str
) -> None:
    page = clients["senco"].get(f"/pupils/{pupil}").text
    assert "has an EHC plan" in page and "Add a one-sentence note" in page
    status, _ = post_note(clients["senco"], pupil, "  Settles best   with a familiar adult.  ")
    assert status == 303
    page = clients["senco"].get(f"/pupils/{pupil}").text
    assert "Settles best with a familiar adult." in page
    assert "Written by senco" in page and "Change the note" in page
    status, _ = post_note(clients["senco"], pupil, "Transitions after lunch are the hard part.")
    assert status == 303
    page = clients["senco"].get(f"/pupils/{pupil}").text
    assert "Transitions after lunch" in page and "Settles best" not in page


def test_a_note_must_be_one_short_sentence(clients: dict[str, TestClient], pupil: str) -> None:
    status, text = post_note(clients["senco"], pupil, "Calm in the morning. Hard after lunch.")
    assert status == 400 and "Keep it to one sentence" in text
    assert "Calm in the morning. Hard after lunch." in text  # the draft is kept for editing
    status, text = post_note(clients["senco"], pupil, "word " * 80)
    assert status == 400 and "at most 280 characters" in text
    status, text = post_note(clients["senco"], pupil, "Likes e.g. maths and lego.")
    assert status == 303


@pytest.mark.parametrize("role", ["teacher", "dsl", "trust_admin", "visiting_professional"])
def test_only_the_senco_may_write_it(clients: dict[str, TestClient], pupil: str, role: str) -> None:
    client = clients[role]
    csrf = csrf_of(client.get("/glossary").text)
    response = client.post(f"/pupils/{pupil}/note", data={"note": "A note.", "csrf": csrf})
    assert response.status_code == 403
    assert "Add a one-sentence note" not in client.get(f"/pupils/{pupil}").text


def test_a_pupil_at_another_school_is_not_found_and_a_form_without_its_token_is_refused(
    clients: dict[str, TestClient], web_trust: Trust, pupil: str
) -> None:
    senco = clients["senco"]
    csrf = csrf_of(senco.get("/glossary").text)
    elsewhere = web_trust.other_school_pupil
    response = senco.post(f"/pupils/{elsewhere}/note", data={"note": "A note.", "csrf": csrf})
    assert response.status_code == 404
    response = senco.post(f"/pupils/{pupil}/note", data={"note": "A note."})
    assert response.status_code == 400 and "Nothing was changed" in response.text
