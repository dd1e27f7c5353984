"""Actions (issue 13, item 3): the SENCo assigns two actions to a teacher, who sees them
on their home page and marks one done, after which it leaves the home page; no one else
may mark it; another school's action is refused; every change lands through raw and is
kept as history."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import ROLES, Trust, csrf_of, one_value

from empowered import actions as act
from empowered.access.users import find_user

pytestmark = pytest.mark.slow

DUE = (date.today() + timedelta(days=14)).isoformat()
FIRST = "Book a meeting with the family to agree the reading plan at home."
SECOND = "Move to the small-group phonics intervention after half term."


def _ref(app: Any, username: str) -> str:
    with app.state.warehouse.reading() as con:
        user = find_user(con, username)
    assert user is not None
    return f"app-user-{user.user_id}"


def _agree(client: TestClient, pupil: str, **fields: str) -> Any:
    form = client.get(f"/actions/new?pupil={pupil}&source=pupil")
    assert form.status_code == 200, form.text
    action_id = re.search(r'name="action_id" value="([^"]+)"', form.text)
    assert action_id
    data = {
        "csrf": csrf_of(form.text),
        "pupil": pupil,
        "source": "pupil",
        "ref": "",
        "action_id": action_id.group(1),
    } | fields
    return client.post("/actions", data=data, follow_redirects=False)


def _key_of(response: Any) -> str:
    assert response.status_code == 303, response.text
    found = re.match(r"/actions/([^?]+)\?saved=1", response.headers["location"])
    assert found
    return found.group(1).replace("%3A", ":")


@pytest.fixture(scope="module")
def assigned(clients: dict[str, TestClient], web_trust: Trust) -> tuple[str, str]:
    """The SENCo's two actions for the teacher, about a pupil in the teacher's group."""
    senco = clients["senco"]
    teacher = _ref(senco.app, "teacher")
    pupil = web_trust.in_group[0]
    first = _agree(senco, pupil, kind="meet_family", description=FIRST, owner=teacher, due_date=DUE)
    second = _agree(
        senco, pupil, kind="move_intervention", description=SECOND, owner=teacher, due_date=DUE
    )
    return _key_of(first), _key_of(second)


def test_the_form_offers_staff_who_work_with_the_pupil_by_username_and_role(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    page = clients["senco"].get(f"/actions/new?pupil={web_trust.in_group[0]}&source=pupil")
    assert page.status_code == 200
    for shown in ("teacher (Teacher)", "senco (SENCo", "dsl (Designated"):
        assert shown in page.text
    assert "visiting-professional" not in page.text and "trust-admin" not in page.text
    # A pupil outside the teacher's classes: the teacher is not offered.
    other = clients["senco"].get(f"/actions/new?pupil={web_trust.same_school_other}")
    assert other.status_code == 200 and "teacher (Teacher)" not in other.text


def test_the_teacher_sees_both_on_home_marks_one_done_and_it_leaves(
    clients: dict[str, TestClient], assigned: tuple[str, str]
) -> None:
    teacher = clients["teacher"]
    home = teacher.get("/")
    assert 'data-section="home.my_actions"' in home.text
    assert FIRST in home.text and SECOND in home.text
    done = teacher.post(
        f"/actions/{assigned[0]}/status",
        data={"csrf": csrf_of(home.text), "status": "done", "back": "home"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    after = teacher.get("/")
    assert FIRST not in after.text and SECOND in after.text
    page = teacher.get(f"/actions/{assigned[0]}")
    assert page.status_code == 200
    assert "Done (by teacher" in page.text
    assert "Agreed and given to teacher by senco" in page.text
    assert "Marked done by teacher" in page.text


def test_each_change_is_a_new_row_through_raw_and_staging(
    clients: dict[str, TestClient], assigned: tuple[str, str]
) -> None:
    app = clients["senco"].app
    action_id = assigned[0].split(":", 1)[1]
    landed = one_value(
        app,
        "SELECT count(*) FROM raw.canonical_actions AS r JOIN meta.batches AS b "
        "ON b.batch_id = r._batch_id WHERE r.action_id = ? AND b.source = 'app-action'",
        [action_id],
    )
    assert landed == 2
    assert one_value(
        app, "SELECT status FROM core.fct_action WHERE action_key = ?", [assigned[0]]
    ) == ("done")
    versions = one_value(
        app,
        "SELECT list(status ORDER BY version_number) FROM core.fct_action_history "
        "WHERE action_key = ?",
        [assigned[0]],
    )
    assert versions == ["open", "done"]
    events = one_value(
        app,
        "SELECT list(event ORDER BY event_id) FROM app.audit_log "
        "WHERE event IN ('action_agreed', 'action_status_changed')",
    )
    assert events[:3] == ["action_agreed", "action_agreed", "action_status_changed"]


def test_no_one_else_may_mark_it(clients: dict[str, TestClient], assigned: tuple[str, str]) -> None:
    for role in ("teaching_assistant", "trust_admin", "visiting_professional"):
        client = clients[role]
        csrf = csrf_of(client.get("/glossary").text)
        refused = client.post(
            f"/actions/{assigned[1]}/status",
            data={"csrf": csrf, "status": "done"},
            follow_redirects=False,
        )
        assert refused.status_code in (403, 404), role
    assert SECOND in clients["teacher"].get("/").text
    # The TA sees neither the action nor the school's list.
    assert clients["teaching_assistant"].get(f"/actions/{assigned[1]}").status_code == 404
    assert 'data-section="actions.school"' not in clients["teaching_assistant"].get("/actions").text


def test_the_school_list_filters_and_puts_overdue_first(
    clients: dict[str, TestClient], assigned: tuple[str, str]
) -> None:
    senco = clients["senco"]
    teacher = _ref(senco.app, "teacher")
    page = senco.get(f"/actions?owner={teacher}&status=all")
    assert FIRST in page.text and SECOND in page.text
    open_only = senco.get(f"/actions?owner={teacher}&kind=move_intervention")
    assert SECOND in open_only.text and FIRST not in open_only.text
    assert FIRST not in senco.get(f"/actions?owner={teacher}").text  # done: not open
    overdue = senco.get("/actions?overdue=1").text
    rows = re.findall(r"<tr>(.*?)</tr>", overdue.split("<tbody>", 1)[1], re.S)
    assert rows and all("overdue" in r for r in rows)


def test_a_form_with_mistakes_says_so_beside_each_field_and_saves_nothing(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    before = one_value(clients["senco"].app, "SELECT count(*) FROM core.fct_action")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = _agree(clients["senco"], web_trust.in_group[0], description="", due_date=yesterday)
    assert response.status_code == 422
    for message in (
        "Choose what kind of action this is.",
        "Say what is to be done.",
        "Choose who will do it from the list of staff.",
        "The due date has passed",
    ):
        assert message in response.text
    assert one_value(clients["senco"].app, "SELECT count(*) FROM core.fct_action") == before


def test_a_form_posted_twice_lands_one_action(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"]
    pupil = web_trust.in_group[1]
    form = senco.get(f"/actions/new?pupil={pupil}")
    action_id = re.search(r'name="action_id" value="([^"]+)"', form.text)
    assert action_id
    data = {
        "csrf": csrf_of(form.text),
        "pupil": pupil,
        "source": "register",
        "action_id": action_id.group(1),
        "kind": "follow_up",
        "description": "Check the new seating plan is helping.",
        "owner": _ref(senco.app, "senco"),
        "due_date": DUE,
    }
    for _ in range(2):
        assert senco.post("/actions", data=data, follow_redirects=False).status_code == 303
    assert (
        one_value(
            senco.app,
            "SELECT count(*) FROM raw.canonical_actions WHERE action_id = ?",
            [action_id.group(1)],
        )
        == 1
    )


def test_another_schools_pupil_and_action_are_refused(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"]
    assert senco.get(f"/actions/new?pupil={web_trust.other_school_pupil}").status_code == 404
    app = senco.app
    from empowered.views import PupilScope
    from empowered.views.capture import capture_target
    from identity_keys import TEST_KEYS

    keys = TEST_KEYS
    with app.state.warehouse.writing() as con:
        target = capture_target(
            con,
            web_trust.other_school_pupil,
            scope=PupilScope.school(web_trust.other_school),
            keys=keys,
        )
        action_id = act.new_action_id(date.today())
        act.land_action(
            con,
            act.NewAction(
                action_id,
                web_trust.other_school,
                target.upn,
                "follow_up",
                "Another school's step.",
                "app-user-1",
                date.today(),
                "meeting",
                "app-user-1",
            ),
            keys=keys,
            now=datetime.now(),
        )
        assert act.build_actions(con).ok
    key = f"{web_trust.other_school}:{action_id}"
    assert senco.get(f"/actions/{key}").status_code == 404
    csrf = csrf_of(senco.get("/glossary").text)
    posted = senco.post(
        f"/actions/{key}/status", data={"csrf": csrf, "status": "done"}, follow_redirects=False
    )
    assert posted.status_code == 404
    assert "Another school's step." not in senco.get("/actions?status=all").text
    assert one_value(app, "SELECT status FROM core.fct_action WHERE action_key = ?", [key]) == (
        "open"
    )


def test_agree_an_action_links_where_a_pupil_is_shown(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    pupil = web_trust.in_group[0]
    page = clients["senco"].get(f"/pupils/{pupil}").text
    assert f"/actions/new?pupil={pupil}&amp;source=pupil" in page
    assert "/actions/new?pupil=" in clients["senco"].get("/register").text
    assert "source=register" in clients["senco"].get("/register").text
    assert "/actions/new" not in clients["teacher"].get(f"/pupils/{pupil}").text
    # The DSL agrees a trigger's action in the card's own form (test_trigger_actions.py);
    # a SENCo, who does not act on triggers, follows the link to the actions form.
    assert 'action="/triggers/' in clients["dsl"].get("/triggers?status=all").text
    triggers = clients["senco"].get("/triggers?status=all").text
    assert re.search(r"/actions/new\?pupil=[^&]+&amp;source=trigger&amp;ref=[^\"]+", triggers)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_an_action_only_as_the_policy_says(
    clients: dict[str, TestClient], assigned: tuple[str, str], role: str
) -> None:
    """The teacher's action: its owner, and those who see the school's actions."""
    may = {"trust_admin", "senco", "dsl", "teacher"}
    response = clients[role].get(f"/actions/{assigned[1]}")
    if role in may:
        assert response.status_code == 200 and SECOND in response.text
        # Only its owner and those who agree actions are offered the status buttons.
        assert ("Mark done" in response.text) == (role in {"senco", "dsl", "teacher"})
    else:
        assert response.status_code in (403, 404) and SECOND not in response.text
