"""Every route for every role: what each role may open, what it may not, and that a
changed id in a URL reveals nothing and is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from web_fixtures import ROLES, Trust, csrf_of

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

pytestmark = pytest.mark.slow

EVERYONE = set(ROLES)
ADMIN = {"trust_admin"}
CAPTURERS = {"senco", "teacher", "teaching_assistant"}
# Notes and reports about a pupil (issue 13, item 6): the visitor's one write, and the SENCo.
CONTRIBUTORS = {"senco", "visiting_professional"}
# Every member of staff at a school records safeguarding concerns; only the DSL reads them.
CONCERN_RECORDERS = {"senco", "dsl", "teacher", "teaching_assistant"}

# Which roles may open each page (the policy's table, as users meet it).
PAGES = {
    "/": EVERYONE,
    "/register": {"trust_admin", "senco", "trust_analyst"},
    "/register.xlsx": {"trust_admin", "senco"},
    "/provision": {"trust_admin", "senco", "trust_analyst"},
    "/audit": {"trust_admin", "dsl"},
    "/audit.csv": {"trust_admin", "dsl"},
    "/triggers": {"trust_admin", "senco", "dsl"},
    "/capture": CAPTURERS,
    "/concerns": {"dsl"},
    "/concerns/new": CONCERN_RECORDERS,
    "/imports": {"trust_admin", "senco"},
    "/strategies": EVERYONE - {"dsl"},
    "/admin": ADMIN,
    "/admin/users/new": ADMIN,
    "/admin/groups": ADMIN,
    "/admin/rules": ADMIN,
    "/admin/retention": ADMIN,
    "/admin/subject-access": ADMIN,
    "/admin/schools": ADMIN,
    "/admin/backups": ADMIN,
    "/account": EVERYONE,
    "/glossary": EVERYONE,
    # Finding a child: whoever opens pupil pages (not the analyst, who sees no pupil).
    "/pupils": EVERYONE - {"trust_analyst"},
    # Actions: owners (school staff) and those who see the school's (trust admin too).
    "/actions": {"trust_admin", "senco", "dsl", "teacher", "teaching_assistant"},
    # Without a pupil the form says where to start; with one, see test_actions_page.py.
    "/actions/new": {"senco", "dsl"},
    "/provision/interventions": {"trust_admin", "senco"},
    "/provision/interventions/new": {"trust_admin", "senco"},
    "/provision/groups": {"trust_admin", "senco", "teacher", "teaching_assistant"},
    "/provision/groups/new": {"senco"},
}
# Pages about one pupil: tried with a pupil in the teacher's group, one elsewhere in the
# school and one at another school (``test_changing_the_pupil_in_the_url_reveals_nothing``).
PUPIL_PAGES = {
    "/pupils/{pupil_key}": EVERYONE - {"trust_analyst"},
    "/capture/{pupil_key}": CAPTURERS,
    "/pupils/{pupil_key}/contributions/new": CONTRIBUTORS,
    # Plan reviews: read with the register area, held by the SENCo.
    "/pupils/{pupil_key}/reviews": {"trust_admin", "senco"},
    "/pupils/{pupil_key}/reviews/new": {"senco"},
    # A plan is read by every member of staff who works with the pupil (Code of Practice
    # 6.48); a visitor only with the register area.
    "/pupils/{pupil_key}/plan": {"trust_admin", "senco", "dsl", "teacher", "teaching_assistant"},
    "/pupils/{pupil_key}/chronology": {"dsl"},
}
# Pages about one record, each tried for every role and with another school's record in
# its own test file.
RECORD_PAGES = {
    "/triggers/{trigger_id}": "test_triggers_page.py",
    "/imports/runs/{import_id}": "test_uploads.py",
    "/imports/{batch_id}": "test_uploads.py",
    "/admin/users/{user_id}": "test_admin.py",
    "/actions/{action_id}": "test_actions_page.py",
    "/provision/interventions/{code}": "test_provision_pages.py",
    "/provision/groups/{group_id}": "test_provision_pages.py",
    "/provision/groups/{group_id}/edit": "test_provision_pages.py",
    "/provision/groups/{group_id}/sessions/new": "test_provision_pages.py",
    "/provision/enrolments/{enrolment_id}": "test_provision_pages.py",
    "/pupils/{pupil_key}/contributions/{contribution_id}/report": "test_contributions_page.py",
    "/concerns/{concern_id}": "test_concerns_web.py",
    "/schools/{school_urn}": "test_trust_schools.py",
    # Documents (issue 16): every role, each document and another school's pupil or school
    # in tests/documents (test_documents_foundation.py: what each page offers opens and the
    # rest is refused; each document's own test file).
    "/pupils/{pupil_key}/documents/{kind}.{fmt}": "../documents/test_documents_foundation.py",
    "/register/review-pack.{fmt}": "../documents/test_review_pack.py",
}
# Who may post to each form; everyone else is refused (``test_forms_refuse_other_roles``).
FORMS = {
    "/pupils/{pupil_key}/note": {"senco"},
    "/actions": {"senco", "dsl"},
    # An owner updates their own action; the SENCo and DSL any at their school.
    "/actions/{action_id}/status": {"senco", "dsl", "teacher", "teaching_assistant"},
    "/pupils/{pupil_key}/reviews": {"senco"},
    "/pupils/{pupil_key}/reviews/steps": {"senco"},
    "/pupils/{pupil_key}/plan": {"senco"},
    "/pupils/{pupil_key}/plan/agree": {"senco"},
    "/capture/{pupil_key}": CAPTURERS,
    "/pupils/{pupil_key}/contributions/new": CONTRIBUTORS,
    "/concerns/new": CONCERN_RECORDERS,
    "/concerns/{concern_id}/acknowledge": {"dsl"},
    "/concerns/{concern_id}/share": {"dsl"},
    "/pupils/{pupil_key}/cp-file": {"dsl"},
    "/triggers/{trigger_id}/{action}": {"dsl"},
    "/triggers/acknowledge": {"dsl"},  # bulk acknowledgement of the children ticked
    "/imports": {"trust_admin", "senco"},
    "/imports/mapping": {"trust_admin", "senco"},
    "/imports/{batch_id}/pupils": {"trust_admin", "senco"},
    "/admin/users": ADMIN,
    "/admin/users/{user_id}": ADMIN,
    "/admin/users/{user_id}/disable": ADMIN,
    "/admin/users/{user_id}/enable": ADMIN,
    "/admin/users/{user_id}/reset-password": ADMIN,
    "/admin/users/{user_id}/reset-2fa": ADMIN,
    "/admin/users/{user_id}/sign-out-everywhere": ADMIN,
    "/admin/groups/assign": ADMIN,
    "/admin/groups/unassign": ADMIN,
    "/admin/rules": ADMIN,
    "/admin/rules/rebuild": ADMIN,
    "/admin/retention": ADMIN,
    "/admin/retention/apply": ADMIN,
    "/admin/subject-access": ADMIN,
    "/admin/schools": ADMIN,
    "/admin/backups/now": ADMIN,
    "/account/password": EVERYONE,
    "/account/totp/start": EVERYONE,
    "/account/totp/confirm": EVERYONE,
    "/account/totp/off": EVERYONE,
    "/provision/interventions": {"trust_admin", "senco"},
    "/provision/interventions/{code}": {"trust_admin", "senco"},
    "/provision/groups": {"senco"},
    "/provision/groups/{group_id}": {"senco"},
    "/provision/groups/{group_id}/members": {"senco"},
    "/provision/groups/{group_id}/sessions": CAPTURERS,
    "/provision/enrolments/{enrolment_id}/measures": {"senco"},
    "/provision/enrolments/{enrolment_id}/end": {"senco"},
    "/provision/enrolments/{enrolment_id}/move": {"senco"},
}
# Open to anyone, signed in or not.
PUBLIC = {("GET", "/sign-in"), ("POST", "/sign-in"), ("POST", "/sign-out")}
# Any signed-in user, no one else (test_uploads.py::test_the_api_description_needs_sign_in).
SIGNED_IN = {("GET", "/api/openapi.json")}

PAGE_PATHS = sorted(PAGES)


def allowed_pages(role: str) -> set[str]:
    return {page for page, roles in PAGES.items() if role in roles}


def app_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, through the routers it includes."""

    def walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
        for route in routes:
            if isinstance(route, APIRoute):
                for method in route.methods:
                    yield method, route.path
            elif hasattr(route, "original_router"):  # FastAPI's included router
                yield from walk(route.original_router.routes)

    return set(walk(app.routes))


def test_every_route_is_in_a_table_here(clients: dict[str, TestClient]) -> None:
    """A new route must say who may use it before it can land."""
    known = (
        {("GET", p) for p in [*PAGES, *PUPIL_PAGES, *RECORD_PAGES]}
        | {("POST", p) for p in FORMS}
        | PUBLIC
        | SIGNED_IN
    )
    routes = app_routes(clients["senco"].app)
    assert routes - known == set(), "routes missing from the role tables"
    assert known - routes == set(), "the role tables name routes the app no longer has"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGE_PATHS)
def test_each_role_opens_exactly_its_pages(
    clients: dict[str, TestClient], role: str, page: str
) -> None:
    response = clients[role].get(page)
    if page in allowed_pages(role):
        assert response.status_code == 200, f"{role} should open {page}"
        if page.endswith(".xlsx"):
            assert response.headers["content-type"].startswith("application/vnd.openxml")
        elif page.endswith(".csv"):
            assert response.headers["content-type"].startswith("text/csv")
        else:
            assert "<h1>" in response.text
    else:
        assert response.status_code == 403, f"{role} must not open {page}"
        assert "not part of what your role lets you see" in response.text


@pytest.mark.parametrize("role", ROLES)
def test_forms_refuse_other_roles(
    clients: dict[str, TestClient], web_trust: Trust, role: str
) -> None:
    """Each form posted by a role that may not use it (with a valid token) is refused,
    whatever the ids in its URL, and the refusal is audited."""
    from empowered.access.audit import read_log

    client = clients[role]
    csrf = csrf_of(client.get("/glossary").text)
    ids = {
        "pupil_key": web_trust.in_group[0],
        "trigger_id": "0" * 16,
        "action": "acknowledge",
        "user_id": "1",
        "batch_id": "1",
        "action_id": "0" * 16,
        "code": "no-such-intervention",
        "group_id": "PG-no-such-group",
        "enrolment_id": "PE-no-such-enrolment",
        "concern_id": "SC-00000000000000-00000000",
    }
    app = client.app
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        before = len(read_log(con, event="access_refused", limit=100_000))
    refused = [path for path, roles in FORMS.items() if role not in roles]
    for path in refused:
        response = client.post(path.format(**ids), data={"csrf": csrf}, follow_redirects=False)
        assert response.status_code in (403, 404), (role, path, response.status_code)
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        after = len(read_log(con, event="access_refused", limit=100_000))
    assert after - before == len(refused)


def test_the_navigation_offers_only_allowed_pages(clients: dict[str, TestClient]) -> None:
    from empowered.web.render import NAV

    for role, client in clients.items():
        html = client.get("/glossary").text
        for page, _, _ in NAV:
            if page == "/":
                continue
            assert (f'href="{page}"' in html) == (page in allowed_pages(role)), (role, page)


def pupil_expectations(t: Trust) -> dict[str, dict[str, bool]]:
    """Which pupils each role may open: in the group, same school, another school."""
    return {
        "trust_admin": {"group": True, "school": True, "elsewhere": True},
        "senco": {"group": True, "school": True, "elsewhere": False},
        "dsl": {"group": True, "school": True, "elsewhere": False},
        "teacher": {"group": True, "school": False, "elsewhere": False},
        "teaching_assistant": {"group": True, "school": False, "elsewhere": False},
        "visiting_professional": {"group": True, "school": False, "elsewhere": False},
        "trust_analyst": {"group": False, "school": False, "elsewhere": False},
    }


@pytest.mark.parametrize("role", ROLES)
def test_changing_the_pupil_in_the_url_reveals_nothing(
    clients: dict[str, TestClient], web_trust: Trust, role: str
) -> None:
    t = web_trust
    pupils = {
        "group": t.in_group[0],
        "school": t.same_school_other,
        "elsewhere": t.other_school_pupil,
    }
    for route, roles in PUPIL_PAGES.items():
        for where, pupil in pupils.items():
            response = clients[role].get(route.format(pupil_key=pupil))
            if role in roles and pupil_expectations(t)[role][where]:
                assert response.status_code == 200, (role, route, where)
                assert "<h1>" in response.text
            else:
                assert response.status_code in (403, 404), (role, route, where)
                assert pupil not in response.text
        # A pupil that does not exist gets the same answer as one outside the scope.
        missing = clients[role].get(route.format(pupil_key="P0000000000000000"))
        assert missing.status_code in (403, 404)


def test_a_refused_pupil_is_audited_and_a_viewed_one_too(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    from empowered.access.audit import read_log

    refused, seen = web_trust.same_school_other, web_trust.in_group[0]
    assert clients["teacher"].get(f"/pupils/{refused}").status_code == 404
    assert clients["teacher"].get(f"/pupils/{seen}").status_code == 200
    app = clients["teacher"].app
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        refusals = read_log(con, event="access_refused", pupil_key=refused)
        views = read_log(con, event="viewed_pupil", pupil_key=seen)
    assert any(e["username"] == "teacher" for e in refusals)
    assert any(e["username"] == "teacher" for e in views)


def test_names_are_shown_only_to_roles_that_may_see_them(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = clients["senco"].app
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        name = con.execute(
            "SELECT forename, surname FROM core.pupil_identity WHERE pupil_key = ?",
            [web_trust.in_group[0]],
        ).fetchone()
    assert name
    surname = IdentityReader(TEST_KEYS).text(name[1])  # stored encrypted
    assert surname and surname != name[1]
    for role in ("senco", "teacher", "visiting_professional"):
        assert surname in clients[role].get(f"/pupils/{web_trust.in_group[0]}").text, role
    # The analyst's register has figures but no pupils, and never a name.
    html = clients["trust_analyst"].get("/register").text
    assert surname not in html and web_trust.in_group[0] not in html


def test_sign_in_needs_the_forms_token_and_sets_a_safe_cookie(
    app_and_users: tuple[object, dict[str, str]],
) -> None:
    app, names = app_and_users
    client = TestClient(app)  # type: ignore[arg-type]
    form = client.get("/sign-in")
    refused = client.post(
        "/sign-in", data={"username": names["senco"], "password": "x", "csrf": "forged"}
    )
    assert refused.status_code == 400
    wrong = client.post(
        "/sign-in",
        data={"username": names["senco"], "password": "wrong password", "csrf": csrf_of(form.text)},
    )
    assert wrong.status_code == 401
    assert "role" not in wrong.text.lower() or "sign in" in wrong.text.lower()
    cookie = form.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_every_response_carries_the_security_headers(clients: dict[str, TestClient]) -> None:
    response = clients["senco"].get("/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def test_signed_out_visitors_are_sent_to_sign_in(
    app_and_users: tuple[object, dict[str, str]],
) -> None:
    app, _ = app_and_users
    client = TestClient(app)  # type: ignore[arg-type]
    for page in ("/", "/register", "/pupils/anything", "/audit"):
        response = client.get(page, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/sign-in"


def test_sign_out_needs_the_token_and_ends_the_session(
    app_and_users: tuple[object, dict[str, str]],
) -> None:
    from web_fixtures import signed_in

    app, names = app_and_users
    client = signed_in(app, names["dsl"])
    page = client.get("/")
    assert client.post("/sign-out", data={"csrf": "forged"}).status_code == 400
    out = client.post("/sign-out", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_visitor_sees_only_the_areas_chosen_for_them(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    visitor = clients["visiting_professional"].get(f"/pupils/{web_trust.in_group[0]}").text
    assert 'id="helps"' in visitor and 'id="wellbeing"' in visitor
    for hidden in ('id="attendance"', 'id="behaviour"', 'id="provision"', 'id="plans"'):
        assert hidden not in visitor
    staff = clients["senco"].get(f"/pupils/{web_trust.in_group[0]}").text
    for shown in ('id="attendance"', 'id="behaviour"', 'id="provision"', 'id="plans"'):
        assert shown in staff


def test_each_demo_account_opens_its_roles_pages_and_no_more(
    built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The README's demo prints one account per role: each signs in with the password it
    printed and opens exactly its role's pages."""
    import shutil

    import duckdb

    from empowered.demo import create_demo_accounts
    from empowered.web.app import create_app

    path = tmp_path_factory.mktemp("demo-accounts") / "demo.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    accounts = create_demo_accounts(con)
    con.close()
    assert sorted(a.role for a in accounts) == sorted(ROLES)
    app = create_app(path)
    try:
        for account in accounts:
            client = TestClient(app)
            form = client.get("/sign-in")
            signed = client.post(
                "/sign-in",
                data={
                    "username": account.username,
                    "password": account.password,
                    "csrf": csrf_of(form.text),
                },
                follow_redirects=False,
            )
            assert signed.status_code == 303, account.username
            opened = {page for page in PAGE_PATHS if client.get(page).status_code == 200}
            assert opened == allowed_pages(account.role), account.username
    finally:
        app.state.warehouse.close()
