"""The triggers page through the app: who sees the queue, who may act, what is kept and
audited, and that a trigger outside the user's scope reveals nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import ROLES, Trust, csrf_of

from empowered.analytics.wording import day_text

pytestmark = pytest.mark.slow

VIEWERS = {"trust_admin", "senco", "dsl"}
CARD = re.compile(r'<li class="card trigger-card[^"]*" id="(t[0-9a-f]{24})"')


def _app(clients: dict[str, TestClient]) -> Any:
    return clients["dsl"].app


def _reviews(clients: dict[str, TestClient], trigger: str) -> list[tuple[Any, ...]]:
    with _app(clients).state.warehouse.reading() as con:
        return con.execute(
            "select kind, username, decision from app.trigger_reviews where trigger_id = ? "
            "order by review_id",
            [trigger],
        ).fetchall()


def _log(clients: dict[str, TestClient], event: str) -> list[dict[str, Any]]:
    from empowered.access.audit import read_log

    with _app(clients).state.warehouse.reading() as con:
        return read_log(con, event=event, limit=1000)


def _changes(clients: dict[str, TestClient], trigger: str) -> list[dict[str, Any]]:
    """The audit log's "changed" entries for one trigger (their detail nests the event's)."""
    return [
        e
        for e in _log(clients, "changed")
        if ((e["detail"] or {}).get("detail") or {}).get("trigger_id") == trigger
    ]


def _new_triggers(client: TestClient, page: int = 1) -> tuple[list[str], str]:
    html = client.get(f"/triggers?status=new&page={page}").text
    return CARD.findall(html), html


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_sencos_and_dsls_open_the_queue(
    clients: dict[str, TestClient], role: str
) -> None:
    response = clients[role].get("/triggers")
    if role in VIEWERS:
        assert response.status_code == 200
        assert "<h1>Triggers and early signs</h1>" in response.text
        assert CARD.search(response.text), "the small trust has triggers in the queue"
        assert "The evidence" in response.text and "Worth a conversation" in response.text
    else:
        assert response.status_code == 403
    nav = clients[role].get("/glossary").text
    assert ('href="/triggers"' in nav) == (role in VIEWERS)


def test_only_the_dsl_sees_the_review_forms(clients: dict[str, TestClient]) -> None:
    for role in VIEWERS:
        html = clients[role].get("/triggers").text
        has_forms = "/acknowledge" in html and "Record decision" in html
        assert has_forms == (role == "dsl"), role
    html = clients["dsl"].get("/triggers").text
    # The browser journey finds the button by its accessible name.
    assert re.search(r"<button type=\"submit\">Acknowledge<span", html)
    for label in ("What will be done", "Who will do it", "Due by"):
        assert f">{label}</label>" in html
    assert "<legend>Decision</legend>" in html
    first = CARD.findall(html)[0]
    assert f'hx-post="/triggers/{first}/acknowledge" hx-target="#{first}" hx-swap="outerHTML"' in (
        html
    )
    assert f'<form method="post" action="/triggers/{first}/acknowledge"' in html
    assert "Refer to children&#39;s social care" in html


def test_the_dsl_acknowledges_and_it_is_kept_shown_and_audited(
    clients: dict[str, TestClient],
) -> None:
    dsl = clients["dsl"]
    ids, html = _new_triggers(dsl)
    trigger = ids[0]
    response = dsl.post(
        f"/triggers/{trigger}/acknowledge",
        data={"csrf": csrf_of(html), "status": "new"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/triggers?status=new&done=acknowledged")
    assert _reviews(clients, trigger) == [("acknowledged", "dsl", None)]
    # Gone from "new", shown under "acknowledged" with who did it, and the page says so.
    after = dsl.get(response.headers["location"]).text
    assert trigger not in CARD.findall(after)
    assert 'role="status">Trigger acknowledged.' in after
    shown = dsl.get("/triggers?status=acknowledged").text
    assert trigger in CARD.findall(shown) and "Acknowledged by dsl." in shown
    # The SENCo sees the same status, read-only.
    assert "Acknowledged by dsl." in clients["senco"].get("/triggers?status=acknowledged").text
    changes = _changes(clients, trigger)
    assert changes and changes[0]["username"] == "dsl" and changes[0]["pupil_key"]
    assert changes[0]["detail"]["what"] == "trigger acknowledged"
    assert changes[0]["detail"]["detail"]["rule_id"]


def test_htmx_adds_an_action_then_records_a_decision_swapping_only_the_card(
    clients: dict[str, TestClient],
) -> None:
    dsl = clients["dsl"]
    ids, html = _new_triggers(dsl)
    trigger, token, hx = ids[1], csrf_of(html), {"HX-Request": "true"}
    form = html[html.index(f'action="/triggers/{trigger}/action"') :]
    action_id = re.search(r'name="action_id" value="(AA-[^"]+)"', form)
    owner = re.search(r'<option value="(app-user-[0-9]+)" selected>dsl ', form)
    assert action_id and owner, "the card's form offers the school's staff, the DSL chosen"
    due = date.today() + timedelta(days=3)
    added = dsl.post(
        f"/triggers/{trigger}/action",
        data={
            "csrf": token,
            "action_id": action_id.group(1),
            "kind": "follow_up",
            "description": "Call home today",
            "owner": owner.group(1),
            "due_date": due.isoformat(),
        },
        headers=hx,
    )
    assert added.status_code == 200
    assert added.text.lstrip().startswith(f'<li class="card trigger-card" id="{trigger}"')
    assert "<html" not in added.text and "<h1>" not in added.text
    assert 'id="trigger-status" hx-swap-oob="innerHTML">Action agreed' in added.text
    assert f"Call home today (owner: dsl, due {day_text(due)})" in added.text
    assert "Action open" in added.text

    # A decision outside the closed list is refused beside the field, nothing is kept.
    bad = dsl.post(
        f"/triggers/{trigger}/decision", data={"csrf": token, "decision": "x"}, headers=hx
    )
    assert bad.status_code == 200 and "Choose one of the decisions." in bad.text
    assert 'role="alert"' in bad.text

    decided = dsl.post(
        f"/triggers/{trigger}/decision",
        data={"csrf": token, "decision": "early_help", "note": "Agreed with the SENCo"},
        headers=hx,
    )
    assert decided.status_code == 200
    assert "Decision recorded by dsl: Early help assessment. Reason: Agreed with the SENCo" in (
        decided.text
    )
    assert "/decision" not in decided.text, "a decided trigger takes no more reviews"
    assert [k for k, _, _ in _reviews(clients, trigger)] == ["action_added", "decision_recorded"]

    # It has left the open queue but stays under "decided", with its history.
    open_ids = {t for p in range(1, 4) for t in CARD.findall(dsl.get(f"/triggers?page={p}").text)}
    assert trigger not in open_ids
    shown = dsl.get("/triggers?status=decided").text
    assert trigger in CARD.findall(shown) and "Call home today" in shown
    # The free text stays in the review log, never in the audit log.
    changes = _changes(clients, trigger)
    assert {e["detail"]["detail"].get("decision") for e in changes} == {None, "early_help"}
    assert not any("Call home" in str(e) or "SENCo" in str(e) for e in changes)


def test_without_javascript_a_bad_form_says_what_is_wrong(clients: dict[str, TestClient]) -> None:
    dsl = clients["dsl"]
    ids, html = _new_triggers(dsl)
    response = dsl.post(
        f"/triggers/{ids[0]}/action",
        data={
            "csrf": csrf_of(html),
            "action_id": re.findall(r'name="action_id" value="(AA-[^"]+)"', html)[0],
            "description": "",
            "due_date": "soon",
        },
    )
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert "Say what is to be done." in response.text
    assert "Enter the date it is due" in response.text
    assert 'aria-invalid="true"' in response.text
    assert _reviews(clients, ids[0]) == []


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"dsl"}))
def test_everyone_else_is_refused_acting_and_it_is_audited(
    clients: dict[str, TestClient], role: str
) -> None:
    ids, html = _new_triggers(clients["dsl"])
    client = clients[role]
    token = csrf_of(client.get("/glossary").text)
    response = client.post(f"/triggers/{ids[0]}/acknowledge", data={"csrf": token})
    assert response.status_code == 403
    assert _reviews(clients, ids[0]) == []
    refusals = [
        e
        for e in _log(clients, "access_refused")
        if e["username"] == role.replace("_", "-")
        and e["page"] == f"/triggers/{ids[0]}/acknowledge"
    ]
    assert refusals and "act_on_triggers" in refusals[0]["detail"]["reason"]


def test_a_review_needs_the_forms_token(clients: dict[str, TestClient]) -> None:
    dsl = clients["dsl"]
    ids, _ = _new_triggers(dsl)
    for data in ({"csrf": "forged"}, {}):
        response = dsl.post(f"/triggers/{ids[0]}/acknowledge", data=data)
        assert response.status_code == 400
        assert "Nothing was changed" in response.text
    assert _reviews(clients, ids[0]) == []


def test_another_schools_trigger_is_not_found_and_audited(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    from empowered.views.triggers import id_of

    app = _app(clients)
    with app.state.warehouse.reading() as con:
        item = app.state.cache.review_queue(con, web_trust.other_school)[0]
    other = id_of(item)
    dsl = clients["dsl"]
    token = csrf_of(dsl.get("/glossary").text)
    for response in (
        dsl.post(f"/triggers/{other}/acknowledge", data={"csrf": token}),
        dsl.get(f"/triggers/{other}"),
        dsl.post("/triggers/tnot-a-trigger/acknowledge", data={"csrf": token}),
    ):
        assert response.status_code == 404
        assert item.pupil_key not in response.text and item.label not in response.text
    assert _reviews(clients, other) == []
    refused = [e for e in _log(clients, "access_refused") if other in (e["page"] or "")]
    assert len(refused) == 2 and all(e["username"] == "dsl" for e in refused)
    # The trust administrator may view it (every school), but not act on it.
    assert clients["trust_admin"].get(f"/triggers/{other}").status_code == 200
    # A pupil filter outside the scope is refused the same way.
    assert dsl.get(f"/triggers?pupil={web_trust.other_school_pupil}").status_code == 404


def test_the_per_pupil_view_and_the_single_trigger_page(
    clients: dict[str, TestClient],
) -> None:
    dsl = clients["dsl"]
    ids, html = _new_triggers(dsl)
    # The child's entry in the queue by child that lists this trigger.
    pupil = re.search(rf'id="child-(P[0-9a-f]+)">(?:(?!id="child-).)*id="{ids[0]}"', html, re.S)
    assert pupil
    mine = dsl.get(f"/triggers?status=all&pupil={pupil.group(1)}").text
    assert ids[0] in CARD.findall(mine) and "Showing one pupil" in mine
    assert set(re.findall(r'href="/pupils/(P[0-9a-f]+)"', mine)) == {pupil.group(1)}
    single = dsl.get(f"/triggers/{ids[0]}")
    assert single.status_code == 200 and CARD.findall(single.text) == [ids[0]]


def test_names_only_for_staff_who_may_see_them(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    html = clients["senco"].get("/triggers").text
    first = CARD.search(html)
    assert first
    link = re.search(r'href="/pupils/(P[0-9a-f]+)">([^<]+)</a>', html[first.start() :])
    assert link and not link.group(2).startswith("Pupil "), "identified staff see names"
