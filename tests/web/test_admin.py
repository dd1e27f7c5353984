"""The admin pages: only the trust administrator opens them; accounts added, changed,
switched off and reset through the web with CSRF; groups; trigger rules; retention."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, ROLES, Trust, csrf_of

from empowered.access.audit import read_log

pytestmark = pytest.mark.slow

PAGES = (
    "/admin",
    "/admin/users/new",
    "/admin/groups",
    "/admin/rules",
    "/admin/retention",
    "/admin/subject-access",
)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_trust_admin_opens_the_admin_pages(
    clients: dict[str, TestClient], role: str
) -> None:
    for page in PAGES:
        response = clients[role].get(page)
        if role == "trust_admin":
            assert response.status_code == 200, page
            assert "<h1>" in response.text
        else:
            assert response.status_code == 403, (role, page)
    # Posting is refused just the same (with a valid token).
    if role != "trust_admin":
        token = csrf_of(clients[role].get("/glossary").text)
        response = clients[role].post(
            "/admin/users", data={"csrf": token, "username": "x.y", "role": "senco"}
        )
        assert response.status_code == 403


def _app(clients: dict[str, TestClient]) -> object:
    return clients["trust_admin"].app


def _sign_in(app: object, username: str, password: str, totp: str | None = None) -> TestClient:
    client = TestClient(app)  # type: ignore[arg-type]
    form = client.get("/sign-in")
    data = {"username": username, "password": password, "csrf": csrf_of(form.text)}
    if totp:
        data["totp"] = totp
    response = client.post("/sign-in", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def _post(client: TestClient, page: str, action: str, data: dict[str, object]) -> object:
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": token, **data}, follow_redirects=False)


def _one_time(html: str) -> str:
    found = re.search(r'id="one-time">([^<]+)<', html)
    assert found, html
    return found.group(1)


def _user_id(clients: dict[str, TestClient], username: str) -> int:
    html = clients["trust_admin"].get("/admin").text
    found = re.search(rf'href="/admin/users/(\d+)">{re.escape(username)}<', html)
    assert found, username
    return int(found.group(1))


def test_add_a_teacher_who_must_then_choose_a_password(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    admin = clients["trust_admin"]
    # Without the CSRF token nothing is added.
    refused = admin.post("/admin/users", data={"username": "t.new", "role": "teacher"})
    assert refused.status_code == 400 and "t.new" not in admin.get("/admin").text

    bad = _post(admin, "/admin/users/new", "/admin/users", {"username": "t.new", "role": "teacher"})
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert "needs a school" in bad.text  # type: ignore[attr-defined]

    added = _post(
        admin,
        "/admin/users/new",
        "/admin/users",
        {
            "username": "t.new",
            "role": "teacher",
            "school": web_trust.school,
            "groups": web_trust.group,
        },
    )
    assert added.status_code == 200, added.text  # type: ignore[attr-defined]
    password = _one_time(added.text)  # type: ignore[attr-defined]
    listing = admin.get("/admin").text
    assert "t.new" in listing and web_trust.group in listing and "must change password" in listing
    # The one-time password is never in the audit log.
    app = _app(clients)
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        log = read_log(con, limit=50)
    assert any(e["event"] == "user_added" for e in log)
    assert password not in str(log)

    teacher = _sign_in(app, "t.new", password)
    # Until they choose their own password, every page sends them to /account.
    home = teacher.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/account"
    page = teacher.get("/account")
    assert "An administrator reset your password" in page.text
    changed = teacher.post(
        "/account/password",
        data={
            "csrf": csrf_of(page.text),
            "current": password,
            "new": "paper lantern river stone",
            "repeat": "paper lantern river stone",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert teacher.get("/", follow_redirects=False).status_code == 200
    # The one-time password worked once: it is gone now.
    retry = TestClient(app)  # type: ignore[arg-type]
    form = retry.get("/sign-in")
    again = retry.post(
        "/sign-in",
        data={"username": "t.new", "password": password, "csrf": csrf_of(form.text)},
    )
    assert again.status_code == 401


def test_edit_disable_enable_and_reset(clients: dict[str, TestClient], web_trust: Trust) -> None:
    admin = clients["trust_admin"]
    app = _app(clients)
    added = _post(
        admin,
        "/admin/users/new",
        "/admin/users",
        {"username": "ta.edit", "role": "teaching_assistant", "school": web_trust.school},
    )
    first = _one_time(added.text)  # type: ignore[attr-defined]
    user_id = _user_id(clients, "ta.edit")
    page = f"/admin/users/{user_id}"

    # Edit: give named pupils; a visiting professional without areas is refused in words.
    saved = _post(
        admin,
        page,
        page,
        {"role": "teaching_assistant", "school": web_trust.school, "pupils": web_trust.in_group[0]},
    )
    assert saved.status_code == 303  # type: ignore[attr-defined]
    refused = _post(
        admin, page, page, {"role": "visiting_professional", "school": web_trust.school}
    )
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "visiting professional needs" in refused.text  # type: ignore[attr-defined]
    listing = admin.get("/admin").text
    row = listing[listing.index("ta.edit") :].split("</tr>")[0]
    assert '<td class="num">1</td>' in row

    # Reset the password: the holder's old session stops working, the new one works once.
    holder = _sign_in(app, "ta.edit", first)
    assert holder.get("/account").status_code == 200
    reset = _post(admin, page, f"{page}/reset-password", {})
    second = _one_time(reset.text)  # type: ignore[attr-defined]
    assert second != first
    assert holder.get("/account", follow_redirects=False).headers["location"] == "/sign-in"
    _sign_in(app, "ta.edit", second)

    # Switch off: sessions end; switch on again.
    assert _post(admin, page, f"{page}/disable", {}).status_code == 303  # type: ignore[attr-defined]
    assert "Switched off" in admin.get("/admin").text
    client = TestClient(app)  # type: ignore[arg-type]
    form = client.get("/sign-in")
    off = client.post(
        "/sign-in",
        data={"username": "ta.edit", "password": second, "csrf": csrf_of(form.text)},
    )
    assert off.status_code == 401 and "switched off" in off.text
    assert _post(admin, page, f"{page}/enable", {}).status_code == 303  # type: ignore[attr-defined]
    _sign_in(app, "ta.edit", second)

    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        events = [
            (e["event"], (e["detail"] or {}).get("what"))
            for e in read_log(con, limit=100)
            if (e["detail"] or {}).get("target_user_id") == user_id
        ]
        text = str(read_log(con, limit=200))
    assert ("user_changed", "named pupils") in events
    assert ("user_changed", "disabled") in events and ("user_changed", "enabled") in events
    assert ("password_reset", None) in events
    assert first not in text and second not in text


def test_the_admin_cannot_switch_off_their_own_account(clients: dict[str, TestClient]) -> None:
    admin = clients["trust_admin"]
    me = _user_id(clients, "trust-admin")
    response = _post(admin, "/admin", f"/admin/users/{me}/disable", {})
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert admin.get("/admin").status_code == 200


def test_groups_show_counts_and_assign_staff(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    admin = clients["trust_admin"]
    page = f"/admin/groups?school={web_trust.school}"
    html = admin.get(page).text
    assert f'<th scope="row">{web_trust.group}</th>' in html
    assert f'<td class="num">{len(web_trust.in_group)}</td>' in html
    # No pupil key (let alone a name) is shown here: counts only.
    assert web_trust.in_group[0] not in html
    ta = _user_id(clients, "teaching-assistant")
    data = {"school": web_trust.school, "group": web_trust.group, "user_id": ta}
    assert _post(admin, page, "/admin/groups/assign", data).status_code == 303  # type: ignore[attr-defined]
    app = _app(clients)
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        groups = con.execute(
            "SELECT group_code FROM app.user_groups WHERE user_id = ?", [ta]
        ).fetchall()
    assert (web_trust.group,) in groups
    # The assistant now sees the whole group.
    assistant = clients["teaching_assistant"]
    assert assistant.get(f"/pupils/{web_trust.in_group[-1]}").status_code == 200
    assert _post(admin, page, "/admin/groups/unassign", data).status_code == 303  # type: ignore[attr-defined]
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        assert con.execute(
            "SELECT count(*) FROM app.user_groups WHERE user_id = ?", [ta]
        ).fetchall() == [(0,)]
    other = {"school": web_trust.other_school, "group": web_trust.group, "user_id": ta}
    assert _post(admin, page, "/admin/groups/assign", other).status_code == 400  # type: ignore[attr-defined]


def test_trigger_rules_saved_then_used_by_the_rebuild(clients: dict[str, TestClient]) -> None:
    admin = clients["trust_admin"]
    page = admin.get("/admin/rules").text
    assert "national_10_in_10" in page and "unauthorised sessions" in page
    bad = _post(
        admin,
        "/admin/rules",
        "/admin/rules",
        {"rule_id": "national_10_in_10", "enabled": "yes", "threshold": "0",
         "window_school_weeks": "10"},
    )  # fmt: skip
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert "greater than or equal to 1" in bad.text  # type: ignore[attr-defined]
    good = _post(
        admin,
        "/admin/rules",
        "/admin/rules",
        {"rule_id": "national_10_in_10", "enabled": "yes", "threshold": "3",
         "window_school_weeks": "6"},
    )  # fmt: skip
    assert good.status_code == 303  # type: ignore[attr-defined]
    off = _post(admin, "/admin/rules", "/admin/rules", {"rule_id": "suspensions_2_in_12",
                "threshold": "2", "window_school_weeks": "12"})  # fmt: skip
    assert off.status_code == 303  # type: ignore[attr-defined]
    assert "next build or import" in admin.get("/admin/rules?saved=1").text
    app = _app(clients)
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        before = con.execute(
            "SELECT count(*) FROM marts.safeguarding_trigger WHERE rule_id = 'national_10_in_10'"
        ).fetchall()[0][0]
    rebuilt = _post(admin, "/admin/rules", "/admin/rules/rebuild", {})
    assert rebuilt.status_code == 200, rebuilt.text  # type: ignore[attr-defined]
    assert "Rebuilt" in rebuilt.text  # type: ignore[attr-defined]
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        rules = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT rule_id, threshold, window_school_weeks, enabled FROM meta.trigger_rules"
            ).fetchall()
        }
        after = con.execute(
            "SELECT count(*) FROM marts.safeguarding_trigger WHERE rule_id = 'national_10_in_10'"
        ).fetchall()[0][0]
        fired_off = con.execute(
            "SELECT count(*) FROM marts.safeguarding_trigger WHERE rule_id = 'suspensions_2_in_12'"
        ).fetchall()[0][0]
        log = read_log(con, limit=50, event="changed")
    assert rules["national_10_in_10"] == (3.0, 6, True)
    assert rules["suspensions_2_in_12"][2] is False
    assert after > before  # a lower threshold fires for more pupils
    assert fired_off == 0
    assert any((e["detail"] or {}).get("what") == "trigger rule" for e in log)


def test_retention_page_saves_and_asks_before_deleting(clients: dict[str, TestClient]) -> None:
    admin = clients["trust_admin"]
    page = admin.get("/admin/retention").text
    assert "IRMS" in page and "Audit log entries" in page
    years = {"observations": "7", "attendance": "3", "assessments": "7", "sen": "13",
             "quarantine": "1", "audit": "0"}  # fmt: skip
    bad = _post(admin, "/admin/retention", "/admin/retention", years)
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert "from 1 to 100" in bad.text  # type: ignore[attr-defined]
    good = _post(admin, "/admin/retention", "/admin/retention", {**years, "audit": "8"})
    assert good.status_code == 303  # type: ignore[attr-defined]
    assert 'value="8"' in admin.get("/admin/retention").text
    unconfirmed = _post(admin, "/admin/retention", "/admin/retention/apply", {})
    assert unconfirmed.status_code == 400  # type: ignore[attr-defined]
    applied = _post(admin, "/admin/retention", "/admin/retention/apply", {"confirm": "yes"})
    assert applied.status_code == 200  # type: ignore[attr-defined]
    assert "Deleted" in applied.text  # type: ignore[attr-defined]
    app = _app(clients)
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        [entry] = read_log(con, limit=5, event="retention_applied")
    assert set(entry["detail"]["deleted"]) == {
        "observations", "attendance", "assessments", "sen", "quarantine", "audit"
    }  # fmt: skip
    assert entry["detail"]["years"]["audit"] == 8
    assert PASSWORD not in str(entry)


def test_subject_access_downloads_everything_about_one_pupil_for_the_trust_admin(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    import io
    import zipfile

    admin = clients["trust_admin"]
    pupil = web_trust.in_group[0]
    page = admin.get("/admin/subject-access").text
    assert "subject access request" in page
    # Without the form's token nothing is made.
    forged = admin.post("/admin/subject-access", data={"csrf": "forged", "pupil_key": pupil})
    assert forged.status_code == 400
    unknown = _post(admin, "/admin/subject-access", "/admin/subject-access",
                    {"pupil_key": "P0000000000000000"})  # fmt: skip
    assert unknown.status_code == 404  # type: ignore[attr-defined]
    got = _post(admin, "/admin/subject-access", "/admin/subject-access", {"pupil_key": pupil})
    assert got.status_code == 200  # type: ignore[attr-defined]
    assert got.headers["content-type"] == "application/zip"  # type: ignore[attr-defined]
    assert "attachment" in got.headers["content-disposition"]  # type: ignore[attr-defined]
    names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()  # type: ignore[attr-defined]
    for name in ("summary.html", "sources.csv", "core/pupil_identity.csv",
                 "raw/canonical_pupils.csv", "staging/stg_canonical_pupils.csv",
                 "marts/register_pupil.csv"):  # fmt: skip
        assert name in names, name
    app = _app(clients)
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        [entry] = read_log(con, limit=5, event="subject_access_export")
        surname = con.execute(
            "SELECT surname FROM core.pupil_identity WHERE pupil_key = ?", [pupil]
        ).fetchall()[0][0]
    assert entry["pupil_key"] == pupil and entry["role"] == "trust_admin"
    assert entry["detail"]["rows"] > 0 and surname not in str(entry)
    # Every other role is refused, the form and the page alike.
    for role in ROLES:
        if role == "trust_admin":
            continue
        token = csrf_of(clients[role].get("/glossary").text)
        refused = clients[role].post(
            "/admin/subject-access", data={"csrf": token, "pupil_key": pupil}
        )
        assert refused.status_code == 403, role
        assert refused.headers["content-type"].startswith("text/html"), role
