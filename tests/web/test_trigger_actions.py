"""An action added on a trigger is a real action (issue 15, item 2): "Add an action" on a
trigger card used to keep free text in the trigger's review log, which nobody could mark
done. It now agrees an action through the actions entity (the one way actions are
written), linked to the trigger and the pupil, with an owner chosen from the school's staff
and a due date; it shows in its owner's actions and on the pupil page's triggers section,
where "Mark done" closes it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import csrf_of

from empowered.access.users import list_users
from empowered.sources.capture import staff_ref

pytestmark = pytest.mark.slow

CARD = re.compile(r'<li class="card trigger-card[^"]*" id="(t[0-9a-f]{24})"')
HX = {"HX-Request": "true"}


def _ref_of(client: TestClient, username: str) -> str:
    with client.app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        return staff_ref(next(u.user_id for u in list_users(con) if u.username == username))


def _raw_actions(client: TestClient, ref: str) -> list[tuple[Any, ...]]:
    with client.app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        return con.execute(
            "SELECT action_id, source, status FROM core.fct_action WHERE ref = ?", [ref]
        ).fetchall()


def _section(html: str, start: str, end: str = "</section>") -> str:
    i = html.index(start)
    return html[i : html.index(end, i)]


def test_an_action_added_on_a_trigger_is_marked_done_from_the_pupil_page(
    clients: dict[str, TestClient],
) -> None:
    dsl = clients["dsl"]
    trigger = CARD.findall(dsl.get("/triggers?status=new").text)[0]
    page = dsl.get(f"/triggers/{trigger}").text
    pupil = re.search(r'<a href="/pupils/([^"]+)">', _section(page, f'id="{trigger}"', "</li>"))
    assert pupil, "the single trigger page links its pupil"
    form = _section(page, f'action="/triggers/{trigger}/action"', "</form>")
    me = _ref_of(dsl, "dsl")
    # An owner from the school's staff, and a due date, as the actions form has them.
    assert f'<option value="{me}" selected>' in form and 'name="due_date" type="date"' in form
    action_id = re.search(r'name="action_id" value="(AA-[^"]+)"', form)
    assert action_id
    due = date.today() + timedelta(days=7)
    posted = {
        "csrf": csrf_of(page),
        "action_id": action_id.group(1),
        "kind": "meet_family",
        "description": "Meet the family about the missed sessions",
        "owner": me,
        "due_date": due.isoformat(),
    }
    added = dsl.post(f"/triggers/{trigger}/action", data=posted, headers=HX)
    assert added.status_code == 200, added.text
    assert "Action agreed" in added.text and "Action open" in added.text
    # Sent twice (a double click): one action.
    dsl.post(f"/triggers/{trigger}/action", data=posted, headers=HX)
    assert _raw_actions(dsl, trigger) == [(action_id.group(1), "trigger", "open")]

    mine = _section(dsl.get("/actions").text, '<h2 id="mine-h">')
    assert "Meet the family about the missed sessions" in mine

    shown = _section(dsl.get(f"/pupils/{pupil.group(1)}").text, '<section id="triggers"')
    listed = _section(shown, '<ul class="trigger-actions-agreed">', "</ul>")
    agreed = _section(listed, "Meet the family about the missed sessions", "</li>")
    mark = re.search(r'<form method="post" action="(/actions/[^"]+/status)"', agreed)
    assert mark and "Mark done" in agreed, "the action has Mark done on the pupil page"
    done = dsl.post(
        mark.group(1),
        data={"csrf": csrf_of(shown), "status": "done", "back": "pupil"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].endswith("#triggers")

    assert _raw_actions(dsl, trigger) == [(action_id.group(1), "trigger", "done")]
    after = _section(dsl.get(f"/pupils/{pupil.group(1)}").text, '<section id="triggers"')
    listed = _section(after, '<ul class="trigger-actions-agreed">', "</ul>")
    closed = _section(listed, "Meet the family about the missed sessions", "</li>")
    assert "done" in closed and "Mark done" not in closed
    assert "Meet the family" not in _section(dsl.get("/actions").text, '<h2 id="mine-h">')

    # The trigger no longer says "Action open": its action is finished, and it waits in the
    # open queue for the lead's decision.
    single = dsl.get(f"/triggers/{trigger}").text
    assert "Actions closed (last change" in single and "Action open" not in single
    assert "Every action agreed for it has been marked done or cancelled" in single
    assert trigger in CARD.findall(dsl.get("/triggers?status=actions_closed").text)
    assert trigger in CARD.findall(dsl.get("/triggers?status=open").text)


def test_an_action_without_an_owner_or_due_date_is_refused_beside_the_fields(
    clients: dict[str, TestClient],
) -> None:
    dsl = clients["dsl"]
    trigger = CARD.findall(dsl.get("/triggers?status=new").text)[-1]
    page = dsl.get(f"/triggers/{trigger}").text
    action_id = re.search(r'name="action_id" value="(AA-[^"]+)"', page)
    assert action_id
    refused = dsl.post(
        f"/triggers/{trigger}/action",
        data={
            "csrf": csrf_of(page),
            "action_id": action_id.group(1),
            "kind": "follow_up",
            "description": "Ring home",
            "owner": "Ms Patel",  # free text is no owner: an account is
            "due_date": "soon",
        },
    )
    assert refused.status_code == 400
    assert "Choose who will do it" in refused.text and "Enter the date it is due" in refused.text
    assert _raw_actions(dsl, trigger) == []
