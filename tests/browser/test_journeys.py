"""The issue's browser journeys, through the real pages in Chromium, checked against the
warehouse through the server's own connection."""

from __future__ import annotations

import re
from datetime import date

import pytest
from browser_helpers import Site, sign_in_through_form
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def register_count(site: Site, username: str, attendance_below: float) -> int:
    """How many pupils the register lists for this user with the filter, asked of the
    view service directly."""
    from empowered.access.policy import scope_for
    from empowered.access.users import list_users
    from empowered.views.register import RegisterFilters, register_page
    from empowered.web.deps import pupil_scope

    with site.app.state.warehouse.reading() as con:
        user = next(u for u in list_users(con) if u.username == username)
        scope = scope_for(con, user, today=date.today())
        page = register_page(
            con,
            scope=pupil_scope(scope),
            filters=RegisterFilters(attendance_below=attendance_below),
        )
    return len(page.pupils)


def test_senco_answers_a_register_question_and_opens_a_pupil(open_as, site: Site) -> None:
    """(a) A SENCo signs in, asks the register which pupils' attendance is below 90%, reads
    the answer and drills down to one of them."""
    account = site.accounts["senco"]
    page = open_as(None)
    sign_in_through_form(page, account)
    assert page.url == f"{site.base_url}/"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="SEND register").click()
    page.wait_for_url("**/register")

    page.get_by_label("Attendance below (%)").fill("90")
    page.get_by_role("button", name="Show pupils").click()
    page.wait_for_url("**/register?*attendance_below=90*")

    expected = register_count(site, account.username, 0.9)
    assert expected > 0, "the small trust has pupils with attendance below 90%"
    caption = page.locator("table caption", has_text=re.compile(r"^\d+ pupils$"))
    assert caption.inner_text() == f"{expected} pupils"
    rows = caption.locator("xpath=ancestor::table").locator("tbody tr")
    assert rows.count() == expected
    for cell in rows.locator("td.num").all_inner_texts():
        # Shown to the whole percent: 89.6% reads "90%".
        assert cell and float(cell.rstrip("%")) <= 90, f"attendance {cell} is not below 90%"

    first = rows.first.get_by_role("link").first  # the pupil (then "Agree an action")
    name = first.inner_text()
    href = first.get_attribute("href") or ""
    pupil_key = href.removeprefix("/pupils/")
    first.click()
    page.wait_for_url(f"**{href}")
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert site.query(
        "SELECT count(*) FROM app.audit_log WHERE username = ? AND event = 'viewed_pupil' "
        "AND pupil_key = ?",
        [account.username, pupil_key],
    ) == [(1,)]


def captured_today(site: Site, username: str, pupil_key: str) -> int:
    rows = site.query(
        "SELECT count(*) FROM app.audit_log WHERE username = ? AND event = 'captured' "
        'AND pupil_key = ? AND CAST("at" AS DATE) = current_date',
        [username, pupil_key],
    )
    return int(rows[0][0])


def tap_choice(page: Page, name: str, nth: int = 0) -> None:
    """Tap one of a question's big answer buttons (a label wrapping its radio)."""
    page.locator(f'label.tap:has(input[name="{name}"])').nth(nth).tap()


def save_and_wait(page: Page) -> None:
    """Tap Save and wait for the confirmation (swapped in by htmx, read out as a status)."""
    page.get_by_role("button", name=re.compile(r"^Save ")).tap()
    page.get_by_role("status").filter(has_text="Saved").wait_for()


def test_teacher_on_a_phone_logs_three_observations(open_as, site: Site) -> None:
    """(b) A teacher on a phone logs a check-in, a strategy used and an ABC incident for a
    pupil in their group, in a few taps each, and sees all three on the pupil's timeline."""
    teacher = site.accounts["teacher"]
    before = captured_today(site, teacher.username, site.pupil)
    page = open_as("teacher", width=320, height=640, is_mobile=True, has_touch=True)
    page.goto("/capture")
    # A check-in: the pupil, a mood, an engagement, Save (four taps).
    page.locator(f'a[href="/capture/{site.pupil}"]').first.tap()
    page.wait_for_url(f"**/capture/{site.pupil}")
    tap_choice(page, "mood", 3)
    tap_choice(page, "engagement", 2)
    save_and_wait(page)
    # A strategy used and how it went.
    page.locator('a[href$="?kind=strategy"]').tap()
    page.wait_for_url("**kind=strategy")
    tap_choice(page, "strategy", 0)
    tap_choice(page, "outcome", 0)
    save_and_wait(page)
    # An ABC incident: what the pupil did is the one answer needed.
    page.locator('a[href$="?kind=incident"]').tap()
    page.wait_for_url("**kind=incident")
    tap_choice(page, "antecedent", 0)
    tap_choice(page, "behaviour", 0)
    save_and_wait(page)
    assert captured_today(site, teacher.username, site.pupil) == before + 3
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(f"/pupils/{site.pupil}")
    today = date.today().isoformat()
    entries = page.locator(f'#timeline li:has(time[datetime="{today}"])')
    kinds = " ".join(entries.all_inner_texts())
    assert "check in:" in kinds and "strategy:" in kinds and "incident:" in kinds, kinds


def test_safeguarding_lead_acknowledges_a_trigger(open_as, site: Site) -> None:
    """(c) The DSL opens the review queue, reads why a trigger is there and acknowledges
    it; the queue then says so in words, and the acknowledgement is stored and audited."""
    dsl = site.accounts["dsl"]
    page = open_as("dsl")
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Triggers and early signs"
    ).click()
    page.wait_for_url("**/triggers")
    card = page.locator("li.trigger-card", has=page.get_by_role("button", name=ACKNOWLEDGE))
    card = card.first
    trigger_id = card.get_attribute("id") or ""
    assert trigger_id and card.get_by_role("heading", name="The evidence").count() == 1
    card.get_by_role("button", name=ACKNOWLEDGE).click()
    updated = page.locator(f"li#{trigger_id}")
    # Said in words, with who and when, once htmx has swapped the card.
    expect(updated.locator(".trigger-status")).to_contain_text(
        re.compile(rf"Status:\s*Acknowledged \(last change .* by {dsl.username}\)")
    )
    expect(updated.get_by_role("button", name=ACKNOWLEDGE)).to_have_count(0)
    stored = site.query(
        "SELECT username FROM app.trigger_reviews WHERE trigger_id = ? AND kind = 'acknowledged'",
        [trigger_id],
    )
    assert stored == [(dsl.username,)]
    audited = site.query(
        "SELECT count(*) FROM app.audit_log WHERE username = ? AND event = 'changed' "
        "AND detail LIKE ?",
        [dsl.username, f"%{trigger_id}%"],
    )
    assert audited[0][0] >= 1


ACKNOWLEDGE = re.compile(r"^Acknowledge")


def test_teacher_is_refused_a_pupil_outside_their_groups(open_as, site: Site) -> None:
    """(d) A teacher opening a pupil outside their groups by URL is refused, the page
    reveals nothing about the pupil, and the refusal is in the audit log, where the
    safeguarding lead sees it."""
    teacher = site.accounts["teacher"]
    path = f"/pupils/{site.outside_pupil}"

    def refusals() -> int:
        rows = site.query(
            "SELECT count(*) FROM app.audit_log WHERE username = ? AND event = "
            "'access_refused' AND pupil_key = ? AND page = ?",
            [teacher.username, site.outside_pupil, path],
        )
        return int(rows[0][0])

    before = refusals()
    page = open_as("teacher")
    response = page.goto(path)
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not available to you"
    assert site.outside_pupil not in page.content()
    assert refusals() == before + 1
    # A pupil in their group opens as usual: the refusal is about scope, not the page.
    allowed = page.goto(f"/pupils/{site.pupil}")
    assert allowed is not None and allowed.status == 200

    dsl = open_as("dsl")
    dsl.goto("/audit")
    newest = dsl.locator("tbody tr", has_text="access refused").filter(has_text=site.outside_pupil)
    assert newest.count() >= 1
    assert teacher.username in newest.first.inner_text()
