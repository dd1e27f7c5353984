"""Route x role x area: every section of every page, for every role and for a visiting
professional limited to each single area, shows only what the policy allows (issue 10,
finding 4).

Pages mark each section with ``data-section`` (an ``access.sections.Section`` value) and
each pupil-level entry (a timeline entry, an early-sign measure, an alert on the home
page) with ``data-area``. The test reads those marks and asks the policy, so a section
the policy refuses fails wherever it appears. ``SECTION_PAGES`` must list every section:
a new one fails ``test_every_section_is_walked`` until it is listed (and seen on a page).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, ROLES, Trust, signed_in

from empowered.access.policy import (
    Scope,
    may_see_section,
    scope_for,
    visible_areas,
)
from empowered.access.roles import AREAS
from empowered.access.sections import Section
from empowered.access.users import find_user

pytestmark = pytest.mark.slow

S = Section
# Every section, and the page (path template) it appears on.
SECTION_PAGES: dict[Section, str] = {
    S.HOME_TRIGGERS: "/",
    S.HOME_EARLY_SIGNS: "/",
    S.HOME_PLAN_REVIEWS: "/",
    S.HOME_NEEDS_WITHOUT_PROVISION: "/",
    S.HOME_SCHOOL_SUMMARY: "/",
    S.HOME_MY_ACTIONS: "/",
    S.ACTIONS_MINE: "/actions",
    S.ACTIONS_SCHOOL: "/actions",
    S.PUPIL_IDENTITY: "/pupils/{pupil}",
    S.PUPIL_STATUS: "/pupils/{pupil}",
    S.PUPIL_NOTE: "/pupils/{pupil}",
    S.PUPIL_EARLY_SIGNS: "/pupils/{pupil}",
    S.PUPIL_WHAT_HELPS: "/pupils/{pupil}",
    S.PUPIL_HARDER: "/pupils/{pupil}",
    S.PUPIL_WELLBEING: "/pupils/{pupil}",
    S.PUPIL_ATTENDANCE: "/pupils/{pupil}",
    S.PUPIL_BEHAVIOUR: "/pupils/{pupil}",
    S.PUPIL_PROVISION: "/pupils/{pupil}",
    S.PUPIL_PLANS: "/pupils/{pupil}",
    S.PUPIL_ASSESSMENTS: "/pupils/{pupil}",
    S.PUPIL_TIMELINE: "/pupils/{pupil}",
    S.PUPIL_CONTRIBUTIONS: "/pupils/{pupil}",
    S.PUPIL_CONTRIBUTION_FORM: "/pupils/{pupil}",
    S.PLAN_DETAILS: "/pupils/{pupil}/plan",
    S.PLAN_WHAT_HELPS: "/pupils/{pupil}/plan",
    S.STRATEGY_EFFECTS: "/strategies",
    S.STRATEGY_PATTERNS: "/strategies",
    S.REGISTER_COUNTS: "/register",
    S.REGISTER_LIST: "/register",
    S.REGISTER_QUESTIONS: "/register",
    S.REGISTER_ATTENDANCE: "/register",
    S.REGISTER_PROVISION: "/register",
    S.PROVISION_MAP: "/provision",
    S.TRIGGERS_QUEUE: "/triggers",
    S.TRIGGERS_EARLY_SIGNS: "/triggers",
    # On one import's report, only when its rows name a pupil who matched none or several:
    # walked with such a batch in test_pupil_match_page.py.
    S.IMPORTS_PUPIL_MATCH: "/imports/1",
    S.PROVISION_CATALOGUE: "/provision/interventions",
    S.PROVISION_GROUPS: "/provision/groups",
    # On a group's page, its register and its pupils' enrolments, once a group is set up:
    # walked for every role in test_provision_pages.py.
    S.PROVISION_MEMBERS: "/provision/groups/PG-set-up-in-test_provision_pages",
    S.PROVISION_SESSIONS: "/provision/groups/PG-set-up-in-test_provision_pages",
    # Plan reviews (issue 13); an EHC plan's annual review steps need an EHC plan with a
    # step coming due: walked with one in test_reviews_page.py.
    S.HOME_EHC_REVIEW_STEPS: "/",
    S.REVIEWS_HELD: "/pupils/{pupil}/reviews",
    S.REVIEWS_FORM: "/pupils/{pupil}/reviews/new",
    S.REVIEWS_EHC_CALENDAR: "/pupils/{pupil}/reviews",
    # Safeguarding concerns (the DSL's; the way to the form for every member of staff).
    S.HOME_CONCERNS: "/",
    S.HOME_CP_FILES: "/",  # the small trust has leavers at the walked school
    S.HOME_SHARED_CONCERNS: "/",
    S.PUPIL_RECORD_CONCERN: "/pupils/{pupil}",
    S.PUPIL_CHRONOLOGY: "/pupils/{pupil}",
    S.PUPIL_TRIGGERS: "/pupils/{pupil}",  # the child's triggers, decisions and actions
    S.CHRONOLOGY: "/pupils/{pupil}/chronology",
    S.CONCERNS_LIST: "/concerns",
    # Backups (issue 14): the small trust has none, so the trust admin's home page warns.
    S.HOME_BACKUPS: "/",
    S.ADMIN_BACKUPS: "/admin/backups",
    # Finding a child: the SEN status beside each pupil of a teacher's or assistant's lists
    # (and of a search's results: the same decision, tested in test_pupil_search.py).
    S.PUPILS_SEN_STATUS: "/pupils",
    # The trust-wide roles' home: the schools side by side (its "needs doing" columns are
    # marked home.triggers and home.plan_reviews, or the analyst's home.school_summary).
    # Each school's page (/schools/{urn}) is walked in test_trust_schools.py.
    S.HOME_SCHOOLS_SIDE_BY_SIDE: "/",
    # Home around children: each card's SEN status, a teacher's own pupils with SEN.
    S.HOME_PUPIL_STATUS: "/",
    # A pupil's lasting changes and each strategy's before and after (issue 15, item 6).
    S.PUPIL_CHANGES: "/pupils/{pupil}",
    S.PUPIL_BEFORE_AFTER: "/pupils/{pupil}",
}
PAGES = sorted(set(SECTION_PAGES.values()))
# Sections that need data the small trust does not have (the fixture writes the walked
# pupil a note): a batch whose rows' pupil is uncertain (test_pupil_match_page.py).
NEEDS_DATA: set[Section] = {
    S.IMPORTS_PUPIL_MATCH,
    S.PROVISION_MEMBERS,
    S.PROVISION_SESSIONS,
    S.HOME_EHC_REVIEW_STEPS,
    S.REVIEWS_EHC_CALENDAR,
    # A concern shared with an account (test_concerns_web.py shares one).
    S.HOME_SHARED_CONCERNS,
}
VISITORS = tuple(f"visitor-{area}" for area in AREAS)
ACCOUNTS = ROLES + VISITORS

_SECTION = re.compile(r'data-section="([^"]+)"')
_AREA = re.compile(r'data-area="([^"]*)"')


@pytest.fixture(scope="module")
def accounts(
    app_and_users: tuple[object, dict[str, str]],
    clients: dict[str, TestClient],
    web_trust: Trust,
) -> Iterator[dict[str, tuple[TestClient, Scope]]]:
    """A client and the policy's scope for each role and each single-area visitor (each
    visitor works with the first pupil of the teacher's group, as the role's visitor)."""
    from empowered.access.users import add_user

    app, names = app_and_users
    warehouse = app.state.warehouse  # type: ignore[attr-defined]
    with warehouse.recording() as con:
        for area in AREAS:
            add_user(
                con,
                f"visitor-{area}",
                PASSWORD,
                "visiting_professional",
                school_urn=web_trust.school,
                pupils=(web_trust.in_group[0],),
                areas=(area,),
                expires_on=date.today() + timedelta(days=10),
            )
        # The SENCo's one-sentence note on the walked pupil, so the note section is walked.
        from empowered.views.pupil_note import save_note

        senco = find_user(con, names["senco"])
        assert senco is not None
        save_note(
            con, web_trust.in_group[0], "Settles with a familiar adult.", user_id=senco.user_id
        )
    out: dict[str, tuple[TestClient, Scope]] = {}
    with warehouse.reading() as con:
        for account in ACCOUNTS:
            username = names.get(account, account)
            user = find_user(con, username)
            assert user is not None, username
            client = clients[account] if account in clients else signed_in(app, username)
            out[account] = (client, scope_for(con, user, today=date.today()))
    yield out


def _page(path: str, trust: Trust) -> str:
    return path.format(pupil=trust.in_group[0])


def test_every_section_is_walked() -> None:
    """A new section fails here until it says which page shows it."""
    assert set(SECTION_PAGES) == set(Section)


@pytest.mark.parametrize("account", ACCOUNTS)
@pytest.mark.parametrize("page", PAGES)
def test_no_section_outside_what_the_policy_allows(
    accounts: dict[str, tuple[TestClient, Scope]], web_trust: Trust, account: str, page: str
) -> None:
    client, scope = accounts[account]
    response = client.get(_page(page, web_trust))
    if response.status_code != 200:
        assert response.status_code in (403, 404)
        return
    html = response.text
    for section in _SECTION.findall(html):
        assert section in set(Section), f"unknown section {section} on {page}"
        assert may_see_section(scope, Section(section)), f"{account} sees {section} on {page}"
        assert SECTION_PAGES[Section(section)] == page, f"{section} listed for another page"
    allowed_areas = visible_areas(scope)
    for area in _AREA.findall(html):
        assert area in allowed_areas, f"{account} sees an entry of the {area} area on {page}"


@pytest.mark.parametrize("account", ACCOUNTS)
def test_every_allowed_section_of_the_pupil_page_is_there(
    accounts: dict[str, tuple[TestClient, Scope]], web_trust: Trust, account: str
) -> None:
    """The marks are not missing: what the policy allows is shown (so the test above
    cannot pass on a page that marks nothing)."""
    client, scope = accounts[account]
    response = client.get(_page("/pupils/{pupil}", web_trust))
    if response.status_code != 200:
        return
    shown = set(_SECTION.findall(response.text))
    for section, page in SECTION_PAGES.items():
        if page != "/pupils/{pupil}" or section in NEEDS_DATA:
            continue
        if section is S.PUPIL_EARLY_SIGNS and not visible_areas(scope) & {
            "attendance",
            "wellbeing",
            "behaviour",
            "learning",
        }:
            continue  # no measure in the user's areas: the section has nothing to say
        assert (section in shown) == may_see_section(scope, section), (account, section)


def test_every_section_appears_for_someone(
    accounts: dict[str, tuple[TestClient, Scope]], web_trust: Trust
) -> None:
    """Each listed section is really rendered (and marked) on its page for some account."""
    seen: set[str] = set()
    for client, _ in accounts.values():
        # The home page comes 50 items at a time, most urgent first: walk a few pages.
        for page in [*PAGES, *(f"/?page={n}" for n in range(2, 8))]:
            response = client.get(_page(page, web_trust))
            if response.status_code == 200:
                seen |= set(_SECTION.findall(response.text))
    missing = {str(s) for s in Section if s not in NEEDS_DATA} - seen
    assert missing == set()


def test_the_reported_visitor_sees_no_attendance_behaviour_or_safeguarding(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """The issue's reproduction: a visitor given wellbeing and strategies saw "Missed 6 of
    20 sessions", behaviour and attainment early signs, attendance alerts in the timeline
    and safeguarding trigger cards with their review status."""
    visitor = clients["visiting_professional"]
    page = visitor.get(f"/pupils/{web_trust.in_group[0]}").text
    assert "sessions" not in page.lower()
    assert "Attendance" not in page.split("<main", 1)[-1].split("On this page", 1)[0]
    for measure in ("attendance", "behaviour", "attainment"):
        assert f"<strong>{measure.capitalize()}:</strong>" not in page
        assert f"Early sign: {measure}" not in page
    assert re.findall(r'data-area="([^"]*)"', page)  # the wellbeing/strategy entries remain
    assert set(re.findall(r'data-area="([^"]*)"', page)) <= {"wellbeing", "strategies"}
    home = visitor.get("/").text
    assert 'data-section="home.triggers"' not in home
    assert "Review:" not in home and "by dsl" not in home


@pytest.mark.parametrize("role", ["teacher", "teaching_assistant"])
def test_teachers_and_assistants_get_no_trigger_cards(
    clients: dict[str, TestClient], role: str
) -> None:
    home = clients[role].get("/").text
    assert 'data-section="home.triggers"' not in home
    assert "Review:" not in home and "Action open" not in home


def test_the_safeguarding_lead_still_gets_trigger_cards(clients: dict[str, TestClient]) -> None:
    home = clients["dsl"].get("/").text
    assert 'data-section="home.triggers"' in home


def test_a_visitor_reads_the_note_as_the_policy_says(
    accounts: dict[str, tuple[TestClient, Scope]], web_trust: Trust
) -> None:
    """The SENCo's note is a section of its own: the policy gives it to everyone who may
    open the page, and it is marked, so the walk above checks it."""
    client, scope = accounts["visitor-wellbeing"]
    page = client.get(f"/pupils/{web_trust.in_group[0]}").text
    assert may_see_section(scope, S.PUPIL_NOTE)
    assert 'data-section="pupil.note"' in page and "Settles with a familiar adult." in page
