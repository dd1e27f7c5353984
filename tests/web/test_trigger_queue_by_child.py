"""The DSL's queue by child (issue 15, item 2), through the app: one entry per child, bulk
acknowledgement (one review event and one audit entry per trigger), a trigger whose
condition no longer holds leaves the open queue and keeps its history, counts are right
after an in-place review, search by name stays in scope, and the pupil page shows the
child's decisions and actions to the DSL and not to a teacher."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of

pytestmark = pytest.mark.slow

CHILD = re.compile(r'<li class="card trigger-child" id="child-([^"]+)">')
CARD = re.compile(r'<li class="card trigger-card[^"]*" id="(t[0-9a-f]{24})"')
COUNTS = re.compile(
    r"<strong>(\d+)</strong> (?:child|children) with open triggers</li>\s*"
    r"<li><strong>(\d+)</strong> open triggers?</li>\s*"
    r"<li><strong>(\d+)</strong> new"
)
NAME = re.compile(r'<h3><a href="/pupils/([^"]+)">([^<]+)</a></h3>')


def _app(clients: dict[str, TestClient]) -> Any:
    return clients["dsl"].app


def _queue_items(clients: dict[str, TestClient], school: str) -> list[Any]:
    """The school's trigger queue as the views compute it (the truth the page groups)."""
    app = _app(clients)
    with app.state.warehouse.reading() as con:
        return list(app.state.cache.review_queue(con, school))


def _children(html: str) -> dict[str, list[str]]:
    """Each child entry on a queue page -> the trigger ids listed under it."""
    parts = CHILD.split(html)
    return {parts[i]: CARD.findall(parts[i + 1]) for i in range(1, len(parts), 2)}


def _counts(html: str) -> tuple[int, int, int]:
    found = COUNTS.search(html)
    assert found, "the counts are at the top of the queue"
    return int(found.group(1)), int(found.group(2)), int(found.group(3))


def _reviews(clients: dict[str, TestClient], trigger: str) -> list[tuple[Any, ...]]:
    with _app(clients).state.warehouse.reading() as con:
        return con.execute(
            "select kind, username from app.trigger_reviews where trigger_id = ? "
            "order by review_id",
            [trigger],
        ).fetchall()


def _audited(clients: dict[str, TestClient]) -> Counter[str]:
    from empowered.access.audit import read_log

    with _app(clients).state.warehouse.reading() as con:
        log = read_log(con, event="changed", limit=100000)
    return Counter(
        str(((e["detail"] or {}).get("detail") or {}).get("trigger_id"))
        for e in log
        if (e["detail"] or {}).get("what") == "trigger acknowledged"
    )


def test_one_child_with_several_triggers_is_one_entry(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    from empowered.views.triggers import id_of

    items = [q for q in _queue_items(clients, web_trust.school) if q.is_active]
    per_child = Counter(q.pupil_key for q in items)
    child, n = per_child.most_common(1)[0]
    assert n >= 2, "the small trust has a child with several open triggers"
    html = clients["dsl"].get(f"/triggers?status=all&pupil={child}").text
    entries = _children(html)
    assert list(entries) == [child]
    assert set(entries[child]) >= {id_of(q) for q in items if q.pupil_key == child}
    # The whole open queue: every child once, every open trigger under its own child.
    seen: list[str] = []
    page = 1
    while True:
        html = clients["senco"].get(f"/triggers?page={page}").text
        seen += list(_children(html))
        if "Next page</a>" not in html:
            break
        page += 1
    assert len(seen) == len(set(seen)) == _counts(html)[0]
    assert "Year " in html and ("SEN support" in html or "EHC plan" in html)


def test_bulk_acknowledge_of_two_children_acknowledges_and_audits_each_trigger(
    clients: dict[str, TestClient],
) -> None:
    dsl = clients["dsl"]
    html = dsl.get("/triggers?status=new").text
    entries = _children(html)
    two = [k for k, ids in entries.items() if ids][:2]
    assert len(two) == 2
    triggers = [t for k in two for t in entries[k]]
    assert len(triggers) >= 2 and all(_reviews(clients, t) == [] for t in triggers)
    before = _audited(clients)
    school = re.search(r'name="school" value="([^"]+)"', html)
    assert school
    response = dsl.post(
        "/triggers/acknowledge",
        data={"csrf": csrf_of(html), "school": school.group(1), "status": "new", "pupil": two},
        follow_redirects=False,
    )
    assert response.status_code == 303
    for t in triggers:
        assert _reviews(clients, t) == [("acknowledged", "dsl")], t
    after = _audited(clients)
    assert all(after[t] - before[t] == 1 for t in triggers)
    page = dsl.get(response.headers["location"]).text
    assert f"{len(triggers)} triggers acknowledged." in page
    assert not set(two) & set(_children(page)), "they have left the new list"
    # Posting again writes nothing more (already acknowledged).
    again = dsl.post(
        "/triggers/acknowledge",
        data={"csrf": csrf_of(page), "school": school.group(1), "pupil": two},
        follow_redirects=False,
    )
    assert "acknowledged=0" in again.headers["location"]
    assert all(len(_reviews(clients, t)) == 1 for t in triggers)


def test_bulk_acknowledge_needs_the_dsl_and_the_forms_token(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    html = clients["dsl"].get("/triggers?status=new").text
    child = next(iter(_children(html)))
    data = {"school": web_trust.school, "pupil": [child]}
    for token in ({"csrf": "forged"}, {}):
        refused = clients["dsl"].post("/triggers/acknowledge", data=data | token)
        assert refused.status_code == 400 and "Nothing was changed" in refused.text
    assert all(_reviews(clients, t) == [] for t in _children(html)[child])
    senco = clients["senco"]
    token = csrf_of(senco.get("/triggers").text)
    assert senco.post("/triggers/acknowledge", data=data | {"csrf": token}).status_code == 403
    # A child of another school is refused as not found.
    other = {"school": web_trust.school, "pupil": [web_trust.other_school_pupil]}
    refused = clients["dsl"].post("/triggers/acknowledge", data=other | {"csrf": csrf_of(html)})
    assert refused.status_code == 404


def test_a_trigger_no_longer_active_is_resolved_and_keeps_its_history(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    from empowered.views.cache import SchoolAnalyticsCache

    dsl, app = clients["dsl"], _app(clients)
    html = dsl.get("/triggers?status=new").text
    trigger = CARD.findall(html)[0]
    acked = dsl.post(
        f"/triggers/{trigger}/acknowledge",
        data={"csrf": csrf_of(html)},
        follow_redirects=False,
    )
    assert acked.status_code == 303
    opened = dsl.get("/triggers").text
    _, open_before, _ = _counts(opened)
    from empowered.views.triggers import id_of

    item = next(q for q in _queue_items(clients, web_trust.school) if id_of(q) == trigger)
    # The next build: the rule's condition no longer holds for this pupil.
    with app.state.warehouse.writing() as con:
        con.execute(
            "update marts.safeguarding_trigger set is_active = false "
            "where pupil_key = ? and school_urn = ? and rule_id = ?",
            [item.pupil_key, item.school_urn, item.rule_id],
        )
    saved, app.state.cache = app.state.cache, SchoolAnalyticsCache()
    try:
        after = dsl.get("/triggers").text
        assert trigger not in CARD.findall(after)
        assert _counts(after)[1] < open_before
        resolved = dsl.get(f"/triggers?status=resolved&pupil={item.pupil_key}").text
        assert trigger in CARD.findall(resolved)
        assert "Resolved (no longer active)" in resolved and "Acknowledged by dsl." in resolved
        assert _reviews(clients, trigger) == [("acknowledged", "dsl")], "history kept"
    finally:
        app.state.cache = saved


def test_counts_are_right_after_an_in_place_review(clients: dict[str, TestClient]) -> None:
    dsl = clients["dsl"]
    html = dsl.get("/triggers?status=new").text
    children, open_, new = _counts(html)
    entries = _children(html)
    child = next(iter(entries))
    trigger = entries[child][0]
    hx = {"HX-Request": "true"}
    acked = dsl.post(
        f"/triggers/{trigger}/acknowledge",
        data={"csrf": csrf_of(html), "status": "new", "grouped": "1"},
        headers=hx,
    )
    assert acked.status_code == 200
    assert 'id="trigger-counts" aria-label="The queue in numbers" hx-swap-oob="outerHTML"' in (
        acked.text
    )
    assert _counts(acked.text) == (children, open_, new - 1)
    decided = dsl.post(
        f"/triggers/{trigger}/decision",
        data={"csrf": csrf_of(html), "decision": "no_further_action", "grouped": "1"},
        headers=hx,
    )
    # Decided, it leaves the open queue; so does its child if it had no other open trigger.
    still_open = len(_children(dsl.get(f"/triggers?pupil={child}").text).get(child, []))
    expected = (children - (0 if still_open else 1), open_ - 1, new - 1)
    assert _counts(decided.text) == expected
    assert _counts(dsl.get("/triggers").text) == expected


def test_search_finds_a_child_in_scope_and_not_one_outside(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    dsl = clients["dsl"]
    key, name = NAME.findall(dsl.get("/triggers?status=all").text)[0]
    part = name.split()[-1][:4].lower()
    found = dsl.get(f"/triggers?status=all&q={part}").text
    assert key in _children(found)
    assert all(part in n.lower() for _, n in NAME.findall(found))
    # The same search at the other school (the trust admin sees it) finds children the DSL's
    # search never lists.
    admin = clients["trust_admin"].get(
        f"/triggers?school={web_trust.other_school}&status=all&q={part}"
    )
    elsewhere = set(_children(admin.text))
    assert not elsewhere & set(_children(found))
    assert "No child matches these choices." in dsl.get("/triggers?q=zzzzqqq").text


def test_the_pupil_page_shows_decisions_and_actions_to_the_dsl_not_a_teacher(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    from empowered.views.triggers import id_of

    dsl = clients["dsl"]
    items = [q for q in _queue_items(clients, web_trust.school) if q.is_active]
    item = next(
        (q for q in items if q.pupil_key in web_trust.in_group),
        items[0],
    )
    trigger, pupil = id_of(item), item.pupil_key
    html = dsl.get(f"/triggers/{trigger}").text
    dsl.post(
        f"/triggers/{trigger}/decision",
        data={"csrf": csrf_of(html), "decision": "discuss_with_family", "note": "Ring mum"},
    )
    # An action agreed on the trigger (its "Agree an action" link), then marked done.
    form = dsl.get(f"/actions/new?pupil={pupil}&source=trigger&ref={trigger}").text
    action_id = re.search(r'name="action_id" value="([^"]+)"', form)
    owner = re.search(r'<option value="(app-user-[0-9]+)"', form)
    assert action_id and owner
    saved = dsl.post(
        "/actions",
        data={
            "csrf": csrf_of(form),
            "pupil": pupil,
            "source": "trigger",
            "ref": trigger,
            "action_id": action_id.group(1),
            "kind": "meet_family",
            "description": "Meet the family about attendance",
            "owner": owner.group(1),
            "due_date": (date.today() + timedelta(days=14)).isoformat(),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    page = dsl.get(f"/pupils/{pupil}").text
    assert 'data-section="pupil.triggers"' in page
    section = page.split('data-section="pupil.triggers"')[1].split("</section>")[0]
    assert item.label in section
    assert "Discuss with the family" in section and "Ring mum" in section
    assert "Meet the family about attendance" in section and "Mark done" in section
    key = re.search(r'action="/actions/([^"]+)/status"', section)
    assert key
    done = dsl.post(
        f"/actions/{key.group(1)}/status",
        data={"csrf": csrf_of(page), "status": "done", "back": "pupil"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/pupils/{pupil}#triggers"
    section = dsl.get(f"/pupils/{pupil}").text.split('data-section="pupil.triggers"')[1]
    section = section.split("</section>")[0]
    agreed = re.search(r"Meet the family about attendance(.*?)</li>", section, re.S)
    assert agreed and "Mark done" not in agreed.group(1) and "done" in agreed.group(1)
    # A teacher who may open the pupil's page sees none of it.
    teacher_pupil = pupil if pupil in web_trust.in_group else web_trust.in_group[0]
    teacher = clients["teacher"].get(f"/pupils/{teacher_pupil}")
    assert teacher.status_code == 200
    assert 'data-section="pupil.triggers"' not in teacher.text
    assert "Discuss with the family" not in teacher.text


def test_the_queue_sorts_by_reasons_newest_and_name(clients: dict[str, TestClient]) -> None:
    senco = clients["senco"]
    reasons = re.compile(r"· (\d+) reasons?")
    by_reasons = [int(n) for n in reasons.findall(senco.get("/triggers?status=all").text)]
    assert len(by_reasons) >= 2 and by_reasons == sorted(by_reasons, reverse=True)
    names = [n for _, n in NAME.findall(senco.get("/triggers?status=all&sort=name").text)]
    assert len(names) >= 2 and names == sorted(names, key=str.casefold)
    first_reached = re.compile(r"First reached on (\d{1,2} \w+ \d{4})")
    from datetime import datetime

    html = senco.get("/triggers?status=all&sort=newest").text
    newest = [
        max(datetime.strptime(d, "%d %B %Y") for d in first_reached.findall(part))
        for part in CHILD.split(html)[2::2]
    ]
    assert newest == sorted(newest, reverse=True)


def test_names_are_decrypted_for_the_children_of_the_page_shown_only(
    clients: dict[str, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the queue decrypted every child's name to show a page of them (a cost, and
    more identity read than the page needs); a search or the order by name needs them all."""
    from empowered.access.policy import scope_for
    from empowered.access.users import find_user
    from empowered.identity import IdentityReader
    from empowered.views.trigger_queue import child_queue
    from empowered.web.deps import pupil_scope

    app = _app(clients)
    decrypted: list[str] = []
    name = IdentityReader.name

    def counted(self: IdentityReader, row: Any) -> str:
        decrypted.append(str(row["pupil_key"]))
        return name(self, row)

    monkeypatch.setattr(IdentityReader, "name", counted)
    with app.state.warehouse.reading() as con:
        user = find_user(con, "senco")
        assert user is not None
        scope = pupil_scope(scope_for(con, user, today=date.today()))
        school = next(iter(scope.schools or ()))

        def page(**how: Any) -> Any:
            decrypted.clear()
            kw = {"scope": scope, "cache": app.state.cache, "status": "all", "per_page": 1}
            return child_queue(con, school, **kw, **how)

        shown = page()
        assert shown.matching >= 2, "more children than the page shows"
        assert decrypted == [shown.children[0].pupil_key] and shown.children[0].name
        by_name = page(sort="name")
        assert len(decrypted) > 1, "ordered by name: every child's (that has a name)"
        assert by_name.children[0].name
