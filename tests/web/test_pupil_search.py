"""Finding a child (issue 15, item 3): "no search by name anywhere; a teacher reaches a
pupil only through a home card or after a capture". The header's search finds pupils by
any part of their name, and by UPN for roles the policy shows UPNs to, within the scope
that decides who may open a pupil page: a pupil outside it is neither listed nor counted,
and the audit log records the search with its count, never what was typed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust

from empowered.access.audit import read_log
from empowered.access.sections import SECTION_RULES, Section, SectionRule
from empowered.identity import IdentityReader
from empowered.views.pupil_search import fold
from identity_keys import TEST_KEYS

pytestmark = pytest.mark.slow

_FOUND = re.compile(r'<li><a href="/pupils/([^"]+)">')
_COUNT = re.compile(r"(\d+|No) pupils? you work with")


@pytest.fixture(scope="module")
def people(
    app_and_users: tuple[object, dict[str, str]],
) -> Iterator[dict[str, tuple[str, str, str]]]:
    """Each pupil's (forename, surname, UPN) as staff read them (stored encrypted)."""
    reader = IdentityReader(TEST_KEYS)
    warehouse = app_and_users[0].state.warehouse  # type: ignore[attr-defined]
    with warehouse.reading() as con:
        rows = con.execute("SELECT pupil_key, forename, surname, upn FROM core.pupil_identity")
        found = rows.fetchall()
    yield {
        str(k): (str(reader.text(f)), str(reader.text(s)), str(reader.upn(u)))
        for k, f, s, u in found
    }


def _found(client: TestClient, q: str) -> tuple[list[str], int]:
    """The pupil keys listed (every page of results) and the count the page states."""
    response = client.get("/pupils", params={"q": q})
    assert response.status_code == 200
    count = _COUNT.search(response.text)
    assert count, "the page says how many pupils were found"
    keys = _FOUND.findall(response.text)
    page = 2
    while f"page={page}" in response.text:
        response = client.get("/pupils", params={"q": q, "page": page})
        keys += _FOUND.findall(response.text)
        page += 1
    return keys, 0 if count.group(1) == "No" else int(count.group(1))


def _matching(people: dict[str, tuple[str, str, str]], keys: set[str], q: str) -> set[str]:
    words = fold(q).split()
    return {k for k in keys if all(w in fold(f"{people[k][0]} {people[k][1]}") for w in words)}


def _part(name: str) -> str:
    """Part of a name as someone half-remembers it: three letters from inside, in capitals."""
    return name[1:4].upper() if len(name) > 4 else name.upper()


def test_a_senco_finds_a_pupil_of_their_school_by_part_of_a_name(
    clients: dict[str, TestClient], web_trust: Trust, people: dict[str, tuple[str, str, str]]
) -> None:
    target = web_trust.same_school_other
    forename, surname, _ = people[target]
    for q in (_part(surname), _part(forename), f"{forename[:2].lower()} {surname[:3].lower()}"):
        keys, count = _found(clients["senco"], q)
        assert target in keys, q
        assert web_trust.other_school_pupil not in keys
        assert count == len(keys)
    # The row says who the pupil is: name, year group, school, SEN status, a link.
    html = clients["senco"].get("/pupils", params={"q": f"{forename} {surname}"}).text
    row = re.search(rf'<li><a href="/pupils/{target}">(.*?)</li>', html, re.S)
    assert row and f"{forename} {surname}" in row.group(1)
    assert re.search(r"(Year \d+|Reception|Nursery)", row.group(1))
    assert re.search(r"(SEN support|EHC plan|No SEN|Not on roll)", row.group(1))
    assert "Academy" in row.group(1) or "School" in row.group(1)


def test_the_search_ignores_case_and_accents(
    clients: dict[str, TestClient], web_trust: Trust, people: dict[str, tuple[str, str, str]]
) -> None:
    school = {k for k in people if k != web_trust.other_school_pupil}
    accented = [k for k in school if fold(people[k][1]) != people[k][1].lower()]
    target = accented[0] if accented else web_trust.same_school_other
    surname = people[target][1]
    plain = fold(surname).swapcase()
    keys, _ = _found(clients["trust_admin"], plain)
    assert target in keys, "a name typed without its accents, in any case, is found"


def test_a_teacher_finds_only_the_pupils_in_their_groups(
    clients: dict[str, TestClient], web_trust: Trust, people: dict[str, tuple[str, str, str]]
) -> None:
    teacher = clients["teacher"]
    mine = set(web_trust.in_group)
    target = web_trust.in_group[0]
    keys, _ = _found(teacher, _part(people[target][1]))
    assert target in keys
    for outside in (web_trust.same_school_other, web_trust.other_school_pupil):
        name = f"{people[outside][0]} {people[outside][1]}"
        keys, count = _found(teacher, name)
        assert outside not in keys
        # The count is of the teacher's own pupils with that name, so nothing leaks.
        assert set(keys) == _matching(people, mine, name)
        assert count == len(_matching(people, mine, name))
    # A common part of names: everything listed is the teacher's, and counted exactly.
    short = teacher.get("/pupils", params={"q": "a"}).text  # one letter: nothing searched
    assert "at least two letters" in short and not _FOUND.findall(short)
    keys, count = _found(teacher, "an")
    assert set(keys) <= mine and count == len(keys) == len(_matching(people, mine, "an"))


def test_a_visitor_finds_only_their_named_pupil(
    clients: dict[str, TestClient], web_trust: Trust, people: dict[str, tuple[str, str, str]]
) -> None:
    visitor = clients["visiting_professional"]
    named = web_trust.in_group[0]
    keys, count = _found(visitor, _part(people[named][1]))
    assert keys == [named] and count == 1
    for other in (web_trust.in_group[1], web_trust.same_school_other):
        name = f"{people[other][0]} {people[other][1]}"
        keys, _ = _found(visitor, name)
        assert other not in keys and set(keys) <= {named}
    # The visitor was given wellbeing and strategies, not the register: no SEN status.
    html = visitor.get("/pupils", params={"q": people[named][1]}).text
    assert 'data-section="pupils.sen_status"' not in html


def test_upn_search_works_only_for_roles_that_see_upns(
    clients: dict[str, TestClient],
    web_trust: Trust,
    people: dict[str, tuple[str, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = web_trust.in_group[0]
    upn = people[target][2]
    typed = f" {upn[:5].lower()} {upn[5:]} "  # as read out: spaces, small letters
    for role in ("senco", "teacher", "trust_admin"):
        keys, count = _found(clients[role], typed)
        assert keys == [target] and count == 1, role
    # Another school's pupil by UPN: not found by the SENCo, not counted.
    other_upn = people[web_trust.other_school_pupil][2]
    assert _found(clients["senco"], other_upn) == ([], 0)
    assert _found(clients["teacher"], people[web_trust.same_school_other][2]) == ([], 0)
    # The analyst searches nothing at all.
    assert clients["trust_analyst"].get("/pupils", params={"q": upn}).status_code == 403
    # Where the policy shows UPNs only with the register area, a teacher's UPN search
    # finds nobody while their name search still works.
    monkeypatch.setitem(
        SECTION_RULES, Section.PUPIL_IDENTITY, SectionRule(permission="view_register")
    )
    assert _found(clients["teacher"], upn) == ([], 0)
    assert "UPN" not in clients["teacher"].get("/pupils").text
    assert target in _found(clients["teacher"], people[target][1])[0]
    assert _found(clients["senco"], upn) == ([target], 1)


def test_the_audit_entry_counts_the_results_and_holds_no_name(
    app_and_users: tuple[object, dict[str, str]],
    clients: dict[str, TestClient],
    web_trust: Trust,
    people: dict[str, tuple[str, str, str]],
) -> None:
    app, _ = app_and_users
    forename, surname, upn = people[web_trust.same_school_other]
    _, count = _found(clients["senco"], f"{forename} {surname}")
    _found(clients["senco"], upn)
    warehouse = app.state.warehouse  # type: ignore[attr-defined]
    with warehouse.reading() as con:
        entries = read_log(con, event="pupil_search", limit=2)
        everything = str(con.execute("SELECT * FROM app.audit_log").fetchall())
    by_upn, by_name = entries
    assert by_name["page"] == "/pupils" and by_name["username"] == "senco"
    assert by_name["detail"] == {"by": "name", "results": count}
    assert by_upn["detail"] == {"by": "upn", "results": 1}
    assert surname not in everything and forename not in everything and upn not in everything


def test_teachers_and_assistants_get_their_class_and_group_lists(
    clients: dict[str, TestClient], web_trust: Trust, people: dict[str, tuple[str, str, str]]
) -> None:
    html = clients["teacher"].get("/pupils").text
    assert f"Group {web_trust.group}" in html
    listed = set(_FOUND.findall(html))
    assert listed == set(web_trust.in_group)
    assert web_trust.same_school_other not in html
    first = web_trust.in_group[0]
    assert f"{people[first][0]} {people[first][1]}" in html
    ta = clients["teaching_assistant"].get("/pupils").text
    assert "Pupils assigned to you" in ta
    assert set(_FOUND.findall(ta)) == set(web_trust.in_group[:2])
    # A SENCo is asked to search, and offered the register.
    senco = clients["senco"].get("/pupils").text
    assert not _FOUND.findall(senco) and 'href="/register"' in senco


def test_every_page_header_has_the_search_but_the_analysts(
    clients: dict[str, TestClient],
) -> None:
    for role in ("senco", "dsl", "teacher", "teaching_assistant", "visiting_professional"):
        html = clients[role].get("/glossary").text
        assert 'action="/pupils"' in html and 'role="search"' in html, role
    assert 'action="/pupils"' not in clients["trust_analyst"].get("/").text


def test_a_long_or_odd_search_is_answered_in_words(clients: dict[str, TestClient]) -> None:
    for q in ("x" * 500, "%' OR 1=1 --", "<script>"):
        response = clients["senco"].get("/pupils", params={"q": q})
        assert response.status_code == 200 and "No pupil you work with" in response.text
        assert "<script>" not in response.text.split("<main", 1)[1]
