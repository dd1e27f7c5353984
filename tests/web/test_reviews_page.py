"""Plan reviews in the app: the SENCo holds a review of a pupil's running plan (imported
here, so its outcomes come from plan_outcomes), it lands as source app-review, the build
takes it through staging and core, the reviews page shows it and the plan is no longer
overdue; an EHC plan's annual review steps show on the SENCo's home page and are
recorded as done."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of, one_value

pytestmark = pytest.mark.slow


def _plan_of(app: Any, school: str, plan_type: str) -> tuple[str, str, list[str]]:
    """A pupil at ``school`` whose running plan of ``plan_type`` is overdue, with outcomes:
    (pupil_key, plan_id, outcome ids)."""
    with app.state.warehouse.reading() as con:
        found = con.execute(
            "SELECT r.pupil_key, r.current_plan_id FROM marts.register_pupil AS r "
            "JOIN core.fct_plan AS p ON p.plan_id = r.current_plan_id "
            "WHERE r.school_urn = ? AND r.current_plan_type = ? AND r.review_overdue "
            "AND p.is_active "
            "AND r.current_plan_id IN (SELECT plan_id FROM core.fct_plan_outcome) "
            "ORDER BY 1 LIMIT 1",
            [school, plan_type],
        ).fetchone()
        assert found, f"the small trust has an overdue {plan_type} with outcomes"
        outcomes = [
            o
            for (o,) in con.execute(
                "SELECT outcome_id FROM core.fct_plan_outcome WHERE plan_id = ? ORDER BY 1",
                [found[1]],
            ).fetchall()
        ]
    return str(found[0]), str(found[1]), outcomes


def _form(client: TestClient, pupil: str) -> tuple[str, str]:
    page = client.get(f"/pupils/{pupil}/reviews/new")
    assert page.status_code == 200
    key = re.search(r'name="form_key" value="([^"]+)"', page.text)
    assert key
    return csrf_of(page.text), key.group(1)


def _review(csrf: str, key: str, outcomes: list[str], **extra: str) -> dict[str, str]:
    data = {
        "csrf": csrf,
        "form_key": key,
        "held_on": date.today().isoformat(),
        "attended": "Mother, class teacher, SENCo",
        "parents_met": "yes",
        "pupil_views": "Likes the quiet table at lunchtime; finds writing tiring.",
        "parent_views": "Mum says reading at home has become a pleasure.",
        "parent_discussion": "We agreed to try a writing frame and to meet again in spring.",
        "changes": "Writing frame in English.",
        "next_steps": "Class teacher to share the frame with home.",
    }
    for n, outcome in enumerate(outcomes):
        data[f"rating_{outcome}"] = str([1, 0, 2, -1][n % 4])
        data[f"note_{outcome}"] = "Steady progress with support."
    data.update(extra)
    return data


def test_a_review_held_lands_shows_and_ends_the_overdue(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"]
    app = senco.app
    pupil, plan, outcomes = _plan_of(app, web_trust.school, "sen_support_plan")
    csrf, key = _form(senco, pupil)
    data = _review(csrf, key, outcomes)

    # A rating missing: told beside the field, nothing landed.
    short = dict(data)
    del short[f"rating_{outcomes[0]}"]
    refused = senco.post(f"/pupils/{pupil}/reviews", data=short)
    assert refused.status_code == 422
    assert "Choose how much progress was made towards this outcome." in refused.text
    assert f'id="rating_{outcomes[0]}-error"' in refused.text
    landed = "SELECT count(*) FROM meta.batches WHERE source = 'app-review'"
    assert one_value(app, landed) == 0

    saved = senco.post(f"/pupils/{pupil}/reviews", data=data, follow_redirects=False)
    assert saved.status_code == 303
    # The same form posted again (a double tap) lands nothing more.
    again = senco.post(f"/pupils/{pupil}/reviews", data=data, follow_redirects=False)
    assert again.status_code == 303
    assert one_value(app, landed) == 2  # the meeting's batch and the outcomes' batch

    page = senco.get(f"/pupils/{pupil}/reviews").text
    assert "Mum says reading at home has become a pleasure." in page
    assert "+1 more than expected" in page and "0 as expected" in page
    assert "Held by</dt><dd>senco" in page
    assert f"/actions/new?pupil={pupil}&amp;source=review&amp;ref=RM-" in page
    # The plan is reviewed: no longer overdue, due again four months on.
    row = (
        "SELECT review_overdue FROM marts.register_pupil WHERE pupil_key = ? "
        "AND current_plan_id = ?"
    )
    assert one_value(app, row, [pupil, plan]) is False
    assert (
        one_value(app, "SELECT last_held_review_on FROM core.fct_plan WHERE plan_id = ?", [plan])
        == date.today()
    )
    ratings = one_value(
        app,
        "SELECT list(rating ORDER BY outcome_id) FROM core.fct_plan_review "
        "WHERE plan_id = ? AND meeting_id IS NOT NULL",
        [plan],
    )
    assert ratings == [[1, 0, 2, -1][n % 4] for n in range(len(outcomes))]
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        from empowered.access.audit import read_log

        held = read_log(con, event="review_held", pupil_key=pupil)
    assert len(held) == 1 and held[0]["username"] == "senco"


def test_a_review_in_the_future_or_without_the_parents_discussion_is_refused(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"]
    pupil, _, outcomes = _plan_of(senco.app, web_trust.school, "sen_support_plan")
    csrf, key = _form(senco, pupil)
    data = _review(csrf, key, outcomes, held_on="2999-01-01", parent_discussion="")
    refused = senco.post(f"/pupils/{pupil}/reviews", data=data)
    assert refused.status_code == 422
    assert "a review is recorded once held" in refused.text
    assert "Code of Practice 6.73" in refused.text


def test_an_ehc_plans_annual_review_steps_show_on_the_home_page_and_are_recorded(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"]
    app = senco.app
    pupil, plan, _ = _plan_of(app, web_trust.school, "ehc_plan")
    # Overdue, so its advice and papers (due two weeks before) are overdue too.
    steps = one_value(
        app,
        "SELECT list(step ORDER BY step_order) FROM marts.ehc_review_step "
        "WHERE plan_id = ? AND is_overdue",
        [plan],
    )
    assert {"advice_requested", "papers_sent", "review_meeting"} <= set(steps)
    home = "".join(senco.get(f"/?page={n}").text for n in range(1, 8))
    assert 'data-section="home.ehc_review_steps"' in home
    assert re.search(r"Ask for advice for [^<]+(&#39;|')s annual review by \d+ \w+ \d{4}", home)
    page = senco.get(f"/pupils/{pupil}/reviews")
    assert 'data-section="reviews.ehc_calendar"' in page.text
    recorded = senco.post(
        f"/pupils/{pupil}/reviews/steps",
        data={
            "csrf": csrf_of(page.text),
            "step": "advice_requested",
            "done_on": date.today().isoformat(),
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303
    done = one_value(
        app,
        "SELECT done_on FROM marts.ehc_review_step WHERE plan_id = ? AND step = ?",
        [plan, "advice_requested"],
    )
    assert done == date.today()
    assert (
        f"done on {date.today().day} {date.today():%B %Y}"
        in senco.get(f"/pupils/{pupil}/reviews").text
    )
    # A step that is not one of the three is refused beside the field.
    bad = senco.post(
        f"/pupils/{pupil}/reviews/steps",
        data={"csrf": csrf_of(page.text), "step": "party", "done_on": "2020-01-01"},
    )
    assert bad.status_code == 422 and "Choose which step was done." in bad.text


def test_the_teacher_neither_reads_nor_holds_reviews(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    pupil = web_trust.in_group[0]
    teacher = clients["teacher"]
    assert teacher.get(f"/pupils/{pupil}/reviews").status_code == 403
    assert teacher.get(f"/pupils/{pupil}/reviews/new").status_code == 403
    admin = clients["trust_admin"]
    page = admin.get(f"/pupils/{pupil}/reviews")
    assert page.status_code == 200 and "Hold a review" not in page.text
