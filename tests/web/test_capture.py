"""Quick capture through the app: who may capture, for whom, what lands in raw, and how it
reaches the marts and the pupil's timeline.

The module works on its own copy of the small trust (the ``web_trust`` fixture copies it
per module), with a rebuilder that waits for ``flush`` so the tests can look at a capture
before and after the rebuild without racing it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of

from empowered.identity import IdentityReader
from empowered.web.capture import Rebuilder, rebuilder, unbuilt_captures
from identity_keys import TEST_KEYS

CAPTURERS = ("senco", "teacher", "teaching_assistant")
NOT_CAPTURERS = ("trust_admin", "dsl", "visiting_professional", "trust_analyst")


@pytest.fixture(scope="module")
def app(app_and_users: tuple[Any, dict[str, str]]) -> Any:
    app, _ = app_and_users
    after: list[float] = []
    made = Rebuilder(app, quiet=3600, after_build=lambda a: after.append(1.0))
    app.state.capture_rebuilder = made
    app.state.after_builds = after
    return app


def sql(app: Any, query: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
    with app.state.warehouse.reading() as con:
        return list(con.execute(query, params or []).fetchall())


def captured_rows(app: Any, table: str) -> list[dict[str, Any]]:
    with app.state.warehouse.reading() as con:
        cursor = con.execute(
            f"SELECT * FROM raw.canonical_{table} WHERE _batch_id IN "
            "(SELECT batch_id FROM meta.batches WHERE source = 'capture') ORDER BY _batch_id"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def landed_counts(app: Any) -> tuple[int, ...]:
    return tuple(
        sql(app, f"SELECT count(*) FROM {t}")[0][0]
        for t in (
            "meta.batches",
            "raw.canonical_observations",
            "raw.canonical_strategy_uses",
            "raw.canonical_incidents",
        )
    )


def post(client: TestClient, pupil: str, data: dict[str, str], *, htmx: bool = False) -> Any:
    page = client.get(f"/capture/{pupil}?kind={data.get('kind', 'check_in')}")
    assert page.status_code == 200, page.text
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/capture/{pupil}",
        data={"csrf": csrf_of(page.text), **data},
        headers=headers,
        follow_redirects=False,
    )


def user_id(app: Any, username: str) -> int:
    return int(sql(app, "SELECT user_id FROM app.users WHERE username = ?", [username])[0][0])


def name_of(app: Any, pupil: str) -> str:
    forename, surname = sql(
        app, "SELECT forename, surname FROM core.pupil_identity WHERE pupil_key = ?", [pupil]
    )[0]
    # Stored encrypted: the page must show what the identity key decrypts.
    assert forename.startswith("enc1:") and surname.startswith("enc1:")
    return IdentityReader(TEST_KEYS).name({"forename": forename, "surname": surname})


def timeline(client: TestClient, pupil: str) -> str:
    page = client.get(f"/pupils/{pupil}")
    assert page.status_code == 200
    found = re.search(r'<ol class="timeline">(.*?)</ol>', page.text, re.S)
    assert found
    return found.group(1)


def test_only_staff_who_record_observations_may_capture(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    for role in CAPTURERS:
        page = clients[role].get("/capture")
        assert page.status_code == 200, role
        assert 'role="search"' in page.text and 'name="q"' in page.text
    for role in NOT_CAPTURERS:
        assert clients[role].get("/capture").status_code == 403, role
        assert clients[role].get(f"/capture/{web_trust.in_group[0]}").status_code == 403, role
    # The visiting professional can see this pupil, but a read-only account never captures.
    visitor = clients["visiting_professional"]
    page = clients["teacher"].get(f"/capture/{web_trust.in_group[0]}")
    refused = visitor.post(
        f"/capture/{web_trust.in_group[0]}",
        data={"csrf": csrf_of(visitor.get("/glossary").text), "mood": "3", "engagement": "3"},
    )
    assert page.status_code == 200 and refused.status_code == 403
    assert not captured_rows(app, "observations")


def test_the_teacher_picks_from_their_own_groups_by_name(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    page = clients["teacher"].get("/capture").text
    assert f'<h2 id="capture-g1">{web_trust.group}</h2>' in page
    for pupil in web_trust.in_group[:3]:
        assert f'href="/capture/{pupil}"' in page
        assert name_of(app, pupil) in page
    assert web_trust.same_school_other not in page
    # The filter works without JavaScript: a plain GET with the words typed.
    surname = name_of(app, web_trust.in_group[0]).split()[-1]
    found = clients["teacher"].get("/capture", params={"q": surname.lower()}).text
    assert f'href="/capture/{web_trust.in_group[0]}"' in found
    assert "match" in found
    nobody = clients["teacher"].get("/capture", params={"q": "zzzz-nobody"}).text
    assert "No pupil you work with matches that" in nobody


def test_a_pupil_outside_the_teachers_groups_is_not_found_and_audited(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    before = landed_counts(app)
    other = web_trust.same_school_other
    teacher = clients["teacher"]
    assert teacher.get(f"/capture/{other}").status_code == 404
    token = csrf_of(teacher.get("/capture").text)
    response = teacher.post(
        f"/capture/{other}",
        data={"csrf": token, "kind": "check_in", "mood": "4", "engagement": "4"},
    )
    assert response.status_code == 404
    assert landed_counts(app) == before
    refusals = sql(
        app,
        "SELECT count(*) FROM app.audit_log WHERE event = 'access_refused' AND pupil_key = ? "
        "AND username = 'teacher'",
        [other],
    )[0][0]
    assert refusals == 2


def test_a_capture_needs_the_forms_csrf_token(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    before = landed_counts(app)
    response = clients["teacher"].post(
        f"/capture/{web_trust.in_group[0]}",
        data={"kind": "check_in", "mood": "4", "engagement": "4"},
    )
    assert response.status_code == 400
    assert "Nothing was changed" in response.text
    assert landed_counts(app) == before


def test_bad_values_are_refused_next_to_the_field_and_nothing_is_written(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    before = landed_counts(app)
    pupil = web_trust.in_group[0]
    bad = post(clients["teacher"], pupil, {"kind": "check_in", "mood": "9", "engagement": "3"})
    assert bad.status_code == 422
    assert "Choose a mood from the choices shown (“9” is not one of them)." in bad.text
    assert 'id="e-mood"' in bad.text and 'aria-describedby="e-mood"' in bad.text
    assert 'class="capture-errors" role="alert"' in bad.text  # the summary above the form
    missing = post(
        clients["teacher"], pupil, {"kind": "strategy", "strategy": "calm_corner"}, htmx=True
    )
    assert missing.status_code == 200  # htmx swaps only 2xx answers
    assert "Choose how it went." in missing.text and "<html" not in missing.text
    future = post(
        clients["teacher"],
        pupil,
        {"kind": "incident", "behaviour": "refusal", "day": "2999-01-01", "time": "25:99"},
    )
    assert future.status_code == 422
    assert "The date is in the future" in future.text
    assert "Enter the time as hours and minutes" in future.text
    unknown = clients["teacher"].post(
        "/capture/P0000000000000000",
        data={"csrf": csrf_of(clients["teacher"].get("/capture").text), "mood": "3"},
    )
    assert unknown.status_code == 404
    assert landed_counts(app) == before


def test_captures_land_in_raw_reach_the_marts_and_the_timeline(
    clients: dict[str, TestClient], app: Any, web_trust: Trust, app_and_users: Any
) -> None:
    teacher = clients["teacher"]
    pupil = web_trust.in_group[0]
    name = name_of(app, pupil)
    upn, school = sql(
        app, "SELECT upn, school_urn FROM core.pupil_identity WHERE pupil_key = ?", [pupil]
    )[0]
    staff = f"app-user-{user_id(app, 'teacher')}"

    # A check-in with JavaScript: the confirmation and a fresh form come back as a partial.
    saved = post(teacher, pupil, {"kind": "check_in", "mood": "4", "engagement": "2"}, htmx=True)
    assert saved.status_code == 200
    assert "<html" not in saved.text and 'hx-swap-oob="innerHTML"' in saved.text
    said = re.sub(r"<[^>]+>", "", saved.text)
    assert re.search(rf"Saved \d\d:\d\d for {re.escape(name)}\. Log another\?", said)
    assert "checked" not in saved.text  # the form is reset
    # A strategy without JavaScript: post, redirect, get.
    done = post(
        teacher,
        pupil,
        {"kind": "strategy", "strategy": "calm_corner", "outcome": "partly", "note": "ok"},
    )
    assert done.status_code == 303 and done.headers["location"].startswith(f"/capture/{pupil}")
    shown = teacher.get(done.headers["location"])
    assert 'role="status"' in shown.text
    assert f"for {name}. Log another?" in re.sub(r"<[^>]+>", "", shown.text)
    # An ABC incident with its context, at a time of the teacher's choosing.
    incident = post(
        teacher,
        pupil,
        {
            "kind": "incident",
            "antecedent": "demand_placed",
            "behaviour": "refusal",
            "consequence": "adult_support",
            "intensity": "2",
            "duration_minutes": "5",
            "activity": "maths",
            "setting": "classroom",
            "time": "09:40",
        },
    )
    assert incident.status_code == 303

    observations = captured_rows(app, "observations")
    uses = captured_rows(app, "strategy_uses")
    incidents = captured_rows(app, "incidents")
    assert len(observations) == len(uses) == len(incidents) == 1
    o, u, i = observations[0], uses[0], incidents[0]
    reader = IdentityReader(TEST_KEYS)
    for row in (o, u, i):
        # The captured row names the pupil by UPN as an export would, encrypted.
        assert row["upn"].startswith("enc1:") and reader.upn(row["upn"]) == reader.upn(upn)
        assert (row["school_urn"], row["staff_id"]) == (school, staff)
        assert row["_source_row"] == 1
    assert (o["mood"], o["engagement"], o["activity"], o["setting"]) == ("4", "2", None, None)
    assert re.fullmatch(r"\d\d:\d\d", o["observed_time"])
    assert (u["strategy_code"], u["outcome"], u["note"]) == ("calm_corner", "partly", "ok")
    assert (i["antecedent"], i["behaviour"], i["consequence"]) == (
        "demand_placed",
        "refusal",
        "adult_support",
    )
    assert (i["intensity"], i["duration_minutes"], i["occurred_time"]) == ("2", "5", "09:40")
    batches = sql(
        app,
        "SELECT entity, file_name, rows_read FROM meta.batches WHERE source = 'capture' "
        "ORDER BY batch_id",
    )
    assert [(e, n) for e, _, n in batches] == [
        ("observations", 1),
        ("strategy_uses", 1),
        ("incidents", 1),
    ]
    # Audited as captures, by pseudonymous key; never a name or UPN in the log.
    log = sql(
        app,
        "SELECT detail FROM app.audit_log WHERE event = 'captured' AND pupil_key = ? "
        "ORDER BY event_id",
        [pupil],
    )
    assert [d for (d,) in log] == [
        '{"entity": "observations"}',
        '{"entity": "strategy_uses"}',
        '{"entity": "incidents"}',
    ]
    assert not sql(
        app,
        "SELECT 1 FROM app.audit_log WHERE detail LIKE ? OR detail LIKE ?",
        [f"%{upn}%", f"%{name}%"],
    )

    # Before the rebuild: on the timeline straight from raw, said to be not yet charted.
    before = timeline(teacher, pupil)
    assert before.count("just captured, not yet in the charts") == 3
    assert "Check-in: mood 4 (good), engagement 2 (a little)" in before
    assert "Strategy used: calm corner, it partly helped" in before
    assert "Incident: refusal after demand placed" in before

    # The recent pupil is offered first next time.
    assert "Pupils you logged for recently" in teacher.get("/capture").text

    # Were the server stopped now, the next start would know what is left to rebuild.
    assert unbuilt_captures(app) == {
        "raw.canonical_observations",
        "raw.canonical_strategy_uses",
        "raw.canonical_incidents",
    }
    # One rebuild for the three captures (they came in one run), then the marts have them.
    runs = rebuilder(app)
    assert runs.flush()
    assert unbuilt_captures(app) == set()
    assert runs.builds == 1 and runs.last_error is None and app.state.after_builds == [1.0]
    obs_id, use_id, inc_id = o["observation_id"], u["use_id"], i["incident_id"]
    assert sql(
        app,
        "SELECT pupil_key, mood, engagement, staff_id FROM core.fct_observation "
        "WHERE observation_id = ?",
        [obs_id],
    ) == [(pupil, 4, 2, staff)]
    assert sql(
        app,
        "SELECT pupil_key, outcome FROM marts.strategy_use_outcome WHERE use_key = ?",
        [f"{school}:{use_id}"],
    ) == [(pupil, "partly")]
    assert sql(
        app,
        "SELECT pupil_key, behaviour, occurred_minute FROM marts.behaviour_incident "
        "WHERE incident_key = ?",
        [f"{school}:{inc_id}"],
    ) == [(pupil, "refusal", 9 * 60 + 40)]
    assert sql(
        app,
        "SELECT count(*) FROM marts.wellbeing_pupil_day WHERE pupil_key = ? AND observed_on = "
        "current_date",
        [pupil],
    ) == [(1,)]

    after = timeline(teacher, pupil)
    assert "just captured" not in after
    assert "check in: Check-in: mood 4 (good), engagement 2 (a little)" in after
    assert "strategy: Strategy used: Calm corner, it partly helped" in after
    assert "incident: Incident: refusal after demand placed (Maths)" in after

    # A visiting professional sees only their areas (wellbeing, strategies): no incidents.
    visitor = timeline(clients["visiting_professional"], pupil)
    assert "Check-in: mood 4" in visitor and "Calm corner" in visitor
    assert "Incident:" not in visitor


def key_of(html: str) -> str:
    found = re.search(r'name="capture_key" value="([^"]+)"', html)
    assert found, "every capture form carries an idempotency key"
    return found.group(1)


def test_a_value_staging_would_quarantine_is_refused_beside_the_field(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    pupil = web_trust.in_group[1]
    before = landed_counts(app)
    # Staging rule 19 quarantines a day outside the pupil's time on roll: 2001 is before
    # any pupil of the small trust joined. The form says so next to the date.
    refused = post(
        clients["teaching_assistant"],
        pupil,
        {"kind": "check_in", "mood": "3", "engagement": "3", "day": "2001-01-02"},
    )
    assert refused.status_code == 422
    assert re.search(
        r'id="e-day">Error: This pupil joined the school on \d+ \w+ \d{4}: choose that day',
        refused.text,
    )
    assert landed_counts(app) == before
    # The other rules staging applies: a future day, a time that is no time, a code that
    # is not one of the choices.
    for data, field in (
        ({"kind": "check_in", "mood": "3", "engagement": "3", "day": "2999-01-01"}, "day"),
        ({"kind": "check_in", "mood": "3", "engagement": "3", "time": "25:61"}, "time"),
        ({"kind": "check_in", "mood": "9", "engagement": "3"}, "mood"),
        ({"kind": "strategy", "strategy": "not-a-strategy", "outcome": "helped"}, "strategy"),
        ({"kind": "strategy", "strategy": "", "outcome": "maybe"}, "outcome"),
        ({"kind": "incident", "behaviour": "shutdown", "intensity": "7"}, "intensity"),
        (
            {"kind": "incident", "behaviour": "shutdown", "duration_minutes": "-3"},
            "duration_minutes",
        ),
        ({"kind": "incident", "antecedent": "transition"}, "behaviour"),
    ):
        answer = post(clients["teaching_assistant"], pupil, data)
        assert answer.status_code == 422, data
        assert f'id="e-{field}">Error: ' in answer.text, data
    assert landed_counts(app) == before


def test_a_pupil_who_has_left_is_not_offered_and_a_capture_for_them_is_refused(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    leavers = [
        str(r[0])
        for r in sql(
            app,
            "SELECT pupil_key FROM core.fct_enrolment WHERE school_urn = ? "
            "AND leaving_date < current_date ORDER BY 1",
            [web_trust.school],
        )
    ]
    assert leavers, "the small trust has pupils who have left"
    leaver = leavers[0]
    senco = clients["senco"]
    picker = senco.get("/capture").text
    assert f'href="/capture/{leaver}"' not in picker
    assert f'href="/capture/{web_trust.in_group[0]}"' in picker  # pupils on roll are
    page = senco.get(f"/capture/{leaver}")
    assert page.status_code == 200 and "left the school on" in page.text
    before = landed_counts(app)
    refused = post(senco, leaver, {"kind": "check_in", "mood": "3", "engagement": "3"})
    assert refused.status_code == 422
    assert 'id="e-day">Error: This pupil left the school on ' in refused.text
    assert "Not saved" in refused.text
    assert landed_counts(app) == before


def test_a_pupil_who_leaves_in_a_build_is_refused_though_their_form_was_just_read(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    """The pupil's row is kept between a form and its save, but only until the marts
    change: a build that records the pupil leaving is seen by the next save."""
    teacher = clients["teacher"]
    pupil = web_trust.in_group[1]
    for _ in range(2):  # the second from what the first read
        page = teacher.get(f"/capture/{pupil}?kind=check_in")
        assert page.status_code == 200 and "left the school on" not in page.text
    enrolment = "core.fct_enrolment WHERE pupil_key = ? AND school_urn = ?"
    [(left,)] = sql(app, f"SELECT leaving_date FROM {enrolment}", [pupil, web_trust.school])
    with app.state.warehouse.writing() as con:  # as a build recording the leaving does
        con.execute(
            f"UPDATE {enrolment.replace('WHERE', 'SET leaving_date = current_date - 7 WHERE')}",
            [pupil, web_trust.school],
        )
    try:
        before = landed_counts(app)
        refused = post(teacher, pupil, {"kind": "check_in", "mood": "3", "engagement": "3"})
        assert refused.status_code == 422 and "This pupil left the school on" in refused.text
        assert landed_counts(app) == before
    finally:
        with app.state.warehouse.writing() as con:
            con.execute(
                f"UPDATE {enrolment.replace('WHERE', 'SET leaving_date = ? WHERE')}",
                [left, pupil, web_trust.school],
            )


def test_a_member_of_staffs_pupils_are_read_once_for_all_their_forms(
    clients: dict[str, TestClient], app: Any, web_trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows a capture names its pupil by are read for the whole scope at once: the
    next pupil's form, and every save, read none (until the marts change)."""
    from empowered.views import queries

    teacher = clients["teacher"]
    first, *others = web_trust.in_group[:4]
    assert teacher.get(f"/capture/{first}?kind=check_in").status_code == 200
    asked: list[str] = []
    real = queries.rows

    def counted(con: Any, name: str, **kwargs: Any) -> Any:
        asked.append(name)
        return real(con, name, **kwargs)

    monkeypatch.setattr(queries, "rows", counted)
    for pupil in others:
        assert teacher.get(f"/capture/{pupil}?kind=check_in").status_code == 200
    saved = post(teacher, others[0], {"kind": "check_in", "mood": "3", "engagement": "3"})
    assert saved.status_code == 303
    assert not [q for q in asked if q.startswith("capture_pupil")], asked


def test_the_same_post_twice_lands_one_row(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    teacher = clients["teacher"]
    pupil = web_trust.in_group[0]
    page = teacher.get(f"/capture/{pupil}?kind=strategy")
    data = {
        "csrf": csrf_of(page.text),
        "capture_key": key_of(page.text),
        "kind": "check_in",
        "mood": "2",
        "engagement": "4",
        "note": "retried post",
    }
    entries = len(sql(app, "SELECT 1 FROM app.audit_log WHERE event = 'captured'"))
    first = teacher.post(f"/capture/{pupil}", data=data, follow_redirects=False)
    again = teacher.post(f"/capture/{pupil}", data=data, follow_redirects=False)
    htmx = teacher.post(
        f"/capture/{pupil}", data=data, headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert first.status_code == again.status_code == 303 and htmx.status_code == 200
    assert "Saved" in htmx.text  # the retry is told it is saved, as it is
    assert len([r for r in captured_rows(app, "observations") if r["note"] == "retried post"]) == 1
    assert len(sql(app, "SELECT 1 FROM app.audit_log WHERE event = 'captured'")) == entries + 1
    # A fresh form has a fresh key: a second capture of the same answers is a second row.
    page = teacher.get(f"/capture/{pupil}")
    assert key_of(page.text) != data["capture_key"]
    data.update(csrf=csrf_of(page.text), capture_key=key_of(page.text))
    assert teacher.post(f"/capture/{pupil}", data=data, follow_redirects=False).status_code == 303
    assert len([r for r in captured_rows(app, "observations") if r["note"] == "retried post"]) == 2
    # A key that is not one the form made is refused, not landed.
    data.update(capture_key="x'><script>")
    bad = teacher.post(f"/capture/{pupil}", data=data, follow_redirects=False)
    assert bad.status_code == 422 and "reload the page" in bad.text


def test_saved_captures_end_accepted_after_a_build(
    clients: dict[str, TestClient], app: Any, web_trust: Trust
) -> None:
    pupil = web_trust.in_group[1]
    ta = clients["teaching_assistant"]
    strategy = sql(
        app,
        "SELECT strategy_code FROM staging.stg_canonical_strategies "
        "WHERE _reject_reason IS NULL ORDER BY 1 LIMIT 1",
    )[0][0]
    for data in (
        {"kind": "check_in", "mood": "5", "engagement": "1", "note": "accepted-1"},
        {"kind": "strategy", "strategy": strategy, "outcome": "partly", "note": "accepted-2"},
        {"kind": "incident", "behaviour": "shutdown", "intensity": "5", "duration_minutes": "0"},
    ):
        assert post(ta, pupil, data).status_code == 303, data
    assert rebuilder(app).flush()
    batches = [
        r[0]
        for r in sql(
            app,
            "SELECT batch_id FROM meta.batches WHERE source = 'capture' ORDER BY batch_id DESC "
            "LIMIT 3",
        )
    ]
    for entity in ("observations", "strategy_uses", "incidents"):
        rows = sql(
            app,
            f"SELECT _reject_reason FROM staging.stg_canonical_{entity} WHERE _batch_id IN "
            f"({', '.join('?' * len(batches))})",
            batches,
        )
        assert rows == [(None,)], entity
    assert not sql(
        app,
        f"SELECT 1 FROM quarantine.rejected_rows WHERE batch_id IN "
        f"({', '.join('?' * len(batches))})",
        batches,
    )


def test_a_capture_and_its_audit_entry_land_together(
    clients: dict[str, TestClient], app: Any, web_trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empowered.access import audit

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit log could not be written")

    before = landed_counts(app)
    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError, match="audit log"):
        post(clients["teacher"], web_trust.in_group[0], {"mood": "3", "engagement": "3"})
    monkeypatch.undo()
    # No capture without its entry: the landed row went back with the failed entry.
    assert landed_counts(app) == before
    assert post(clients["teacher"], web_trust.in_group[0], {"mood": "3", "engagement": "3"})
    with app.state.warehouse.reading() as con:
        assert audit.verify(con).ok


def test_the_pages_work_on_a_phone(clients: dict[str, TestClient], web_trust: Trust) -> None:
    page = clients["senco"].get(f"/capture/{web_trust.in_group[0]}?kind=incident").text
    # Radio groups in fieldsets with legends; every text input has a visible label.
    assert page.count("<fieldset") == page.count("<legend>") >= 6
    for field in ("duration_minutes", "day", "time", "note"):
        assert f'<label for="f-{field}">' in page and f'id="f-{field}"' in page
    assert 'aria-current="page">ABC incident' in page
    assert 'hx-post="/capture/' in page and 'method="post"' in page
    assert 'name="csrf"' in page


def test_captures_in_quick_succession_share_one_rebuild(app: Any) -> None:
    built: list[float] = []
    runs = Rebuilder(app, quiet=0.5, after_build=lambda a: built.append(1.0))
    for _ in range(3):
        runs.schedule({"raw.canonical_observations"})
    assert runs.builds == 0  # the save never waits for the rebuild
    assert runs.wait_idle(timeout=300)
    assert runs.builds == 1 and built == [1.0] and runs.last_error is None
    assert runs.last_seconds is not None and runs.last_models >= 1


def test_the_form_check_gives_canonical_values_or_a_reason_per_field() -> None:
    from datetime import datetime

    from empowered.sources.capture import KINDS, check_form

    now = datetime(2026, 11, 23, 10, 42, 31)
    checked = check_form(
        KINDS["incident"],
        {"behaviour": "shutdown", "duration_minutes": "12", "note": "after the fire drill"},
        strategies=(),
        now=now,
    )
    assert checked.ok
    assert checked.values["occurred_on"] == "2026-11-23"
    assert checked.values["occurred_time"] == "10:42"
    assert (checked.values["behaviour"], checked.values["duration_minutes"]) == ("shutdown", "12")
    assert checked.values["_note"] == "after the fire drill"  # kept beside the row, in _extra
    wrong = check_form(
        KINDS["strategy"],
        {"strategy": "hugs", "outcome": "helped", "duration_minutes": "x", "note": "n" * 501},
        strategies=(("calm_corner", "Calm corner"),),
        now=now,
    )
    assert wrong.errors == {
        "strategy": "Choose the strategy used from the choices shown (“hugs” is not one of them).",
        "note": "The note is 501 characters: keep it to 500.",
    }
