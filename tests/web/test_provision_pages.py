"""Provision management pages: the catalogue, a group set up by the SENCo, a teaching
assistant's session register, enrolments moved and measured; who may open and post what
(route x role), and every section shown only where the policy allows it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import ROLES, Trust, csrf_of, one_value

from empowered.access.policy import may_see_section, scope_for
from empowered.access.sections import Section
from empowered.access.users import find_user
from empowered.sources.capture import staff_ref

pytestmark = pytest.mark.slow

INTERVENTION = {
    "name": "Reading fluency group",
    "area_of_need": "Cognition and learning",
    "staff_role": "teaching_assistant",
    "minutes_per_session": "30",
    "sessions_per_week": "2",
    "weeks": "8",
    "group_size": "3",
    "hourly_rate": "17.50",
    "materials_cost": "40",
    "measure": "standardised_score",
}


def post(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    """Post a form as a browser would: the page's own CSRF token and form key."""
    html = client.get(page).text
    key = re.search(r'name="form_key" value="([^"]+)"', html)
    fields = {"csrf": csrf_of(html), **({"form_key": key.group(1)} if key else {}), **data}
    return client.post(action, data=fields, follow_redirects=False)


@dataclass
class Setup:
    code: str
    group_id: str
    other_group_id: str
    enrolments: list[str]


def _user_id(app: Any, username: str) -> int:
    with app.state.warehouse.reading() as con:
        user = find_user(con, username)
    assert user is not None
    return user.user_id


@pytest.fixture(scope="module")
def setup(
    clients: dict[str, TestClient], app_and_users: tuple[Any, dict[str, str]], web_trust: Trust
) -> Setup:
    app, names = app_and_users
    senco = clients["senco"]
    saved = post(senco, "/provision/interventions/new", "/provision/interventions", INTERVENTION)
    assert saved.status_code == 303, saved.text
    code = saved.headers["location"].split("saved=")[1]
    assert code.startswith(f"{web_trust.school}-reading-fluency")
    ta = staff_ref(_user_id(app, names["teaching_assistant"]))
    groups = []
    for name, day in (("Reading, Tuesday", "tuesday"), ("Reading, Friday", "friday")):
        made = post(
            senco,
            "/provision/groups/new",
            "/provision/groups",
            {
                "group_name": name,
                "intervention": code,
                "staff": ta,
                "day": day,
                "start_time": "09:10",
                "end_time": "09:40",
                "start_date": "2026-09-01",
            },
        )
        assert made.status_code == 303, made.text
        groups.append(made.headers["location"].split("/")[3].split("?")[0])
    pupils = [*web_trust.in_group[:2], web_trust.same_school_other]
    for pupil in pupils:
        added = post(
            senco,
            f"/provision/groups/{groups[0]}",
            f"/provision/groups/{groups[0]}/members",
            {"pupil": pupil, "start_date": "2026-09-01", "reason": "Reading age below age."},
        )
        assert added.status_code == 303, added.text
    with app.state.warehouse.reading() as con:
        enrolments = [
            r[0]
            for r in con.execute(
                "SELECT enrolment_id FROM core.fct_provision_enrolment WHERE group_id = ? "
                "ORDER BY enrolment_id",
                [groups[0]],
            ).fetchall()
        ]
    assert len(enrolments) == 3
    return Setup(code, groups[0], groups[1], enrolments)


def test_the_senco_keeps_the_school_catalogue_and_the_admin_the_trust_wide(
    clients: dict[str, TestClient], setup: Setup, web_trust: Trust
) -> None:
    listing = clients["senco"].get("/provision/interventions").text
    assert "Reading fluency group" in listing
    assert "teaching_assistant" not in listing and "Teaching assistant" in listing
    assert "£17.50 an hour" in listing
    # A mistake is told beside its field, nothing saved.
    bad = post(
        clients["senco"],
        "/provision/interventions/new",
        "/provision/interventions",
        {**INTERVENTION, "hourly_rate": "lots"},
    )
    assert bad.status_code == 422
    assert 'id="e-hourly_rate"' in bad.text
    # The trust admin adds a trust-wide entry; the SENCo may use but not change it.
    admin = post(
        clients["trust_admin"],
        "/provision/interventions/new",
        "/provision/interventions",
        {**INTERVENTION, "name": "Talk boost"},
    )
    assert admin.status_code == 303, admin.text
    assert admin.headers["location"].endswith("saved=talk-boost")
    assert clients["senco"].get("/provision/interventions/talk-boost").status_code == 404
    assert clients["trust_admin"].get(f"/provision/interventions/{setup.code}").status_code == 404
    edited = post(
        clients["senco"],
        f"/provision/interventions/{setup.code}",
        f"/provision/interventions/{setup.code}",
        {**INTERVENTION, "hourly_rate": "18.00"},
    )
    assert edited.status_code == 303
    assert "£18.00 an hour" in clients["senco"].get("/provision/interventions").text


def test_a_teaching_assistant_records_the_register_of_their_group(
    clients: dict[str, TestClient],
    app_and_users: tuple[Any, dict[str, str]],
    setup: Setup,
) -> None:
    app, _ = app_and_users
    ta = clients["teaching_assistant"]
    groups = ta.get("/provision/groups").text
    assert setup.group_id in groups
    # No way offered to the catalogue or the map, which an assistant may not open.
    assert 'href="/provision/interventions"' not in groups and 'href="/provision"' not in groups
    assert 'href="/provision"' in clients["senco"].get("/provision/groups").text
    form = ta.get(f"/provision/groups/{setup.group_id}/sessions/new")
    assert form.status_code == 200
    # Everyone ticked, today's date, delivered and the intervention's minutes preset.
    assert form.text.count('name="attended"') == 3
    assert form.text.count('name="attended" value="PE-') == form.text.count("checked>") - 1
    assert f'value="{date.today().isoformat()}"' in form.text
    assert 'name="minutes" type="text" inputmode="numeric" value="30"' in form.text
    away = setup.enrolments[2]
    saved = post(
        ta,
        f"/provision/groups/{setup.group_id}/sessions/new",
        f"/provision/groups/{setup.group_id}/sessions",
        {"delivered": "yes", "attended": setup.enrolments[:2], "minutes": "30"},
    )
    assert saved.status_code == 303, saved.text
    # Missed the day before, with the reason.
    yesterday = date.fromordinal(date.today().toordinal() - 1).isoformat()
    missed = post(
        ta,
        f"/provision/groups/{setup.group_id}/sessions/new",
        f"/provision/groups/{setup.group_id}/sessions",
        {
            "delivered": "no",
            "missed_reason": "staff_covering",
            "day": yesterday,
            "attended": setup.enrolments,
        },
    )
    assert missed.status_code == 303, missed.text
    from empowered.web.capture import rebuilder

    assert rebuilder(app).flush()
    with app.state.warehouse.reading() as con:
        found = con.execute(
            "SELECT enrolment_id, session_date, delivered, attended, minutes_attended, "
            "missed_reason, recorded_by FROM core.fct_provision_session WHERE group_id = ?",
            [setup.group_id],
        ).fetchall()
    rows = {(str(r[0]), str(r[1])): r[2:] for r in found}
    me = staff_ref(_user_id(app, "teaching-assistant"))
    today = date.today().isoformat()
    assert rows[(away, today)] == (True, False, 0, None, me)
    assert rows[(setup.enrolments[0], today)] == (True, True, 30, None, me)
    assert rows[(setup.enrolments[0], yesterday)] == (False, False, 0, "staff_covering", me)
    page = ta.get(f"/provision/groups/{setup.group_id}").text
    assert "Staff member covering elsewhere" in page and "staff_covering" not in page
    assert "2 of 3" in page
    # Each save is audited.
    assert (
        one_value(
            app,
            "SELECT count(*) FROM app.audit_log WHERE event = 'provision_saved' "
            "AND detail LIKE '%session_register%'",
        )
        == 2
    )


def test_staff_who_do_not_run_the_group_cannot_record_it(
    clients: dict[str, TestClient], setup: Setup
) -> None:
    teacher = clients["teacher"]
    assert setup.group_id not in teacher.get("/provision/groups").text
    assert teacher.get(f"/provision/groups/{setup.group_id}/sessions/new").status_code == 404
    csrf = csrf_of(teacher.get("/glossary").text)
    refused = teacher.post(
        f"/provision/groups/{setup.group_id}/sessions",
        data={"csrf": csrf, "delivered": "yes"},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    # The SENCo records any group at the school; the admin reads but never records.
    assert (
        clients["senco"].get(f"/provision/groups/{setup.group_id}/sessions/new").status_code == 200
    )
    assert clients["trust_admin"].get(f"/provision/groups/{setup.group_id}").status_code == 200
    admin_form = clients["trust_admin"].get(f"/provision/groups/{setup.group_id}/sessions/new")
    assert admin_form.status_code == 403


def test_moving_a_pupil_keeps_both_enrolments_and_measures_are_editable(
    clients: dict[str, TestClient],
    app_and_users: tuple[Any, dict[str, str]],
    setup: Setup,
) -> None:
    app, _ = app_and_users
    senco = clients["senco"]
    first = setup.enrolments[0]
    page = f"/provision/enrolments/{first}"
    measured = post(senco, page, f"{page}/measures", {"pre_date": "2026-09-01", "pre_score": "84"})
    assert measured.status_code == 303, measured.text
    moved = post(
        senco,
        page,
        f"{page}/move",
        {
            "to_group": setup.other_group_id,
            "end_date": "2026-11-02",
            "reason": "The Tuesday slot clashes with speech and language.",
        },
    )
    assert moved.status_code == 303, moved.text
    with app.state.warehouse.reading() as con:
        rows = con.execute(
            "SELECT group_id, cast(start_date AS VARCHAR), cast(end_date AS VARCHAR), "
            "end_reason, reason, pre_score FROM core.fct_provision_enrolment "
            "WHERE pupil_key = (SELECT pupil_key FROM core.fct_provision_enrolment "
            "WHERE enrolment_id = ?) AND group_id IS NOT NULL ORDER BY start_date",
            [first],
        ).fetchall()
    assert rows == [
        (setup.group_id, "2026-09-01", "2026-11-02", "moved", "Reading age below age.", 84.0),
        (
            setup.other_group_id,
            "2026-11-02",
            None,
            None,
            "The Tuesday slot clashes with speech and language.",
            None,
        ),
    ]
    history = senco.get(page).text
    assert "Moved to another intervention" in history and "(current)" in history
    assert history.count("<li>") >= 3  # start, measured, ended


def test_each_role_sees_only_the_sections_the_policy_allows(
    clients: dict[str, TestClient],
    app_and_users: tuple[Any, dict[str, str]],
    setup: Setup,
) -> None:
    app, names = app_and_users
    pages = [
        "/provision/interventions",
        f"/provision/interventions/{setup.code}",
        "/provision/groups",
        f"/provision/groups/{setup.group_id}",
        f"/provision/groups/{setup.group_id}/edit",
        f"/provision/groups/{setup.group_id}/sessions/new",
        f"/provision/enrolments/{setup.enrolments[1]}",
    ]
    seen: set[str] = set()
    for role in ROLES:
        with app.state.warehouse.reading() as con:
            user = find_user(con, names[role])
            assert user is not None
            scope = scope_for(con, user, today=date.today())
        for page in pages:
            response = clients[role].get(page)
            if response.status_code != 200:
                assert response.status_code in (403, 404), (role, page)
                continue
            for section in re.findall(r'data-section="([^"]+)"', response.text):
                assert may_see_section(scope, Section(section)), (role, page, section)
                seen.add(section)
    assert {"provision.members", "provision.sessions"} <= seen


def test_another_schools_group_is_not_found(
    clients: dict[str, TestClient], setup: Setup, web_trust: Trust
) -> None:
    # A made-up id and a real group seen by a role of no school: "not found" alike.
    for client in (clients["senco"], clients["teaching_assistant"]):
        assert client.get("/provision/groups/PG-nowhere").status_code == 404
    assert clients["dsl"].get(f"/provision/groups/{setup.group_id}").status_code == 403
    assert clients["visiting_professional"].get("/provision/groups").status_code == 403
