"""The plan page (issue 13, item 1): the SENCo writes a plan with three outcomes, changes
it, agrees it; every version stays readable; who may read and who may write."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of, one_value

from empowered.plans import AREAS

pytestmark = pytest.mark.slow

TODAY = date.today()


def as_of(client: TestClient, pupil: str) -> date:
    """The school's "now" (its latest attendance): a plan is current on the pupil page
    from its start up to then, and the synthetic trust's year may have ended already."""
    day = one_value(
        client.app,
        "SELECT a.as_of_date FROM core.dim_pupil AS p "
        "JOIN marts.school_as_of AS a USING (school_urn) WHERE p.pupil_key = ?",
        [pupil],
    )
    assert isinstance(day, date)
    return min(day, TODAY)


def _form(html: str) -> dict[str, str]:
    """The plan form's hidden fields as the page gave them."""
    edit = html[html.index('action="/pupils/') :]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', edit))


def _outcome(n: int, text: str, area: int, **extra: str) -> dict[str, str]:
    return {
        f"o{n}_text": text,
        f"o{n}_area": AREAS[area],
        f"o{n}_target": (TODAY + timedelta(days=100)).isoformat(),
        **{f"o{n}_{k}": v for k, v in extra.items()},
    }


def test_the_senco_writes_changes_and_agrees_a_plan(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"]
    pupil = web_trust.same_school_other
    page = senco.get(f"/pupils/{pupil}/plan")
    assert page.status_code == 200
    assert "Write a plan" in page.text
    hidden = _form(page.text)
    strategy = re.search(r'name="o0_strategy" value="([^"]+)"', page.text)
    assert strategy, "the strategies come from the catalogue, as choices"
    start = as_of(senco, pupil)
    posted = {
        **hidden,
        "plan_type": "sen_support_plan",
        "start_date": start.isoformat(),
        "next_review_due": (start + timedelta(days=70)).isoformat(),
        "strengths": "Curious, loves animals, a loyal friend.",
        "needs_communication": "Needs instructions broken into short steps.",
        **_outcome(0, "Will ask for help with a help card in every lesson.", 0),
        **_outcome(1, "Will read 20 more common exception words.", 1, who="Class teacher"),
        **_outcome(2, "Will name a feeling and choose a calming strategy.", 2),
        "o2_strategy": strategy.group(1),
    }
    saved = senco.post(f"/pupils/{pupil}/plan", data=posted, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    shown = senco.get(saved.headers["location"]).text
    assert "Saved." in shown
    assert "Will read 20 more common exception words." in shown
    assert "Version 1, a draft not yet agreed, saved by senco" in shown
    assert "what the records show for this pupil" in shown
    assert "Curious, loves animals" in shown
    plan_id = one_value(
        senco.app,
        "SELECT plan_id FROM core.fct_plan WHERE pupil_key = ? AND plan_version = 1",
        [pupil],
    )
    assert (
        one_value(
            senco.app,
            "SELECT count(*) FROM core.fct_plan_outcome WHERE plan_id = ? AND in_plan",
            [plan_id],
        )
        == 3
    )

    # The same form posted again (a double click): nothing lands twice.
    again = senco.post(f"/pupils/{pupil}/plan", data=posted, follow_redirects=False)
    assert again.status_code == 303
    assert (
        one_value(
            senco.app,
            "SELECT count(*) FROM meta.batches WHERE source = 'app-plan' AND entity = 'plans' "
            "AND file_name LIKE ?",
            [f"plan {plan_id} %"],
        )
        == 1
    )

    # Changed: the second outcome taken out.
    hidden = _form(shown)
    assert hidden["base_version"] == "1" and hidden["plan_id"] == plan_id
    values = {k: v for k, v in posted.items() if not k.startswith("o")}
    edit = {
        **values,
        **hidden,
        **_outcome(0, "Will ask for help with words or a help card.", 0),
        "o0_id": hidden["o0_id"],
        **_outcome(1, "Will read 20 more common exception words.", 1),
        "o1_id": hidden["o1_id"],
        "o1_remove": "yes",
        **_outcome(2, "Will name a feeling and choose a calming strategy.", 2),
        "o2_id": hidden["o2_id"],
    }
    changed = senco.post(f"/pupils/{pupil}/plan", data=edit, follow_redirects=False)
    assert changed.status_code == 303, changed.text
    shown = senco.get(changed.headers["location"]).text
    current = shown[: shown.index("Earlier versions")]
    assert "Will ask for help with words or a help card." in current
    assert "Will read 20 more common exception words." not in current
    assert "Version 1," in shown  # the first version, readable in the history

    # Agreed with the family.
    agree = {
        "csrf": csrf_of(shown),
        "plan_key": _form(shown)["plan_key"],
        "base_version": "2",
        "agreed_with": "parents_and_pupil",
        "agreed_on": TODAY.isoformat(),
    }
    done = senco.post(f"/pupils/{pupil}/plan/agree", data=agree, follow_redirects=False)
    assert done.status_code == 303, done.text
    shown = senco.get(done.headers["location"]).text
    assert f"Version 3, agreed {TODAY.day} {TODAY:%B %Y} by senco" in shown
    assert "Record that this plan was agreed" not in shown
    assert (
        one_value(senco.app, "SELECT status FROM core.fct_plan WHERE plan_id = ?", [plan_id])
        == "agreed"
    )

    # The pupil page lists the current plan's outcomes and links to the plan.
    pupil_page = senco.get(f"/pupils/{pupil}").text
    assert "Will ask for help with words or a help card." in pupil_page
    assert f'href="/pupils/{pupil}/plan"' in pupil_page

    # Both changes are in the audit log, without the plan's words.
    from empowered.access.audit import read_log

    with senco.app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        events = [e["event"] for e in read_log(con, pupil_key=pupil, limit=50)]
    assert events.count("plan_saved") == 2 and events.count("plan_agreed") == 1


def test_a_mistake_is_shown_beside_its_field_and_nothing_lands(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"]
    pupil = web_trust.in_group[1]
    page = senco.get(f"/pupils/{pupil}/plan").text
    before = one_value(senco.app, "SELECT count(*) FROM raw.canonical_plans")
    posted = {
        **_form(page),
        "plan_type": "sen_support_plan",
        "start_date": TODAY.isoformat(),
        "o0_text": "Will write a sentence with a capital letter.",
        "o0_area": "",
        "o0_target": "31/02/2027",
    }
    refused = senco.post(f"/pupils/{pupil}/plan", data=posted)
    assert refused.status_code == 422
    assert 'id="e-o0_area"' in refused.text and 'id="e-o0_target"' in refused.text
    assert "Choose the area of need this outcome is about." in refused.text
    assert 'href="#o0_target"' in refused.text  # the summary links to the field
    assert "Will write a sentence with a capital letter." in refused.text  # kept
    assert one_value(senco.app, "SELECT count(*) FROM raw.canonical_plans") == before


def test_who_may_read_and_write_plans(clients: dict[str, TestClient], web_trust: Trust) -> None:
    pupil = web_trust.in_group[0]
    csrf = csrf_of(clients["teacher"].get("/glossary").text)
    posted = {"csrf": csrf, "plan_type": "sen_support_plan", "start_date": TODAY.isoformat()}
    for role in ("teacher", "teaching_assistant", "trust_admin", "dsl"):
        response = clients[role].post(f"/pupils/{pupil}/plan", data=posted)
        assert response.status_code in (403, 404), role
    # The trust admin reads the plan but does not write it.
    admin = clients["trust_admin"].get(f"/pupils/{pupil}/plan")
    assert admin.status_code == 200 and "Write a plan" not in admin.text
    # Every member of staff who works with the pupil reads the plan (Code of Practice 6.48),
    # without the forms; a visitor without the register area does not.
    teacher = clients["teacher"].get(f"/pupils/{pupil}/plan")
    assert teacher.status_code == 200 and "Write a plan" not in teacher.text
    assert clients["visiting_professional"].get(f"/pupils/{pupil}/plan").status_code == 403
    page = clients["teacher"].get(f"/pupils/{pupil}").text
    assert 'id="plans"' in page and f'href="/pupils/{pupil}/reviews"' not in page
    # Another school's pupil: the SENCo is told nothing about them.
    elsewhere = web_trust.other_school_pupil
    assert clients["senco"].get(f"/pupils/{elsewhere}/plan").status_code == 404
    csrf = csrf_of(clients["senco"].get("/glossary").text)
    refused = clients["senco"].post(
        f"/pupils/{elsewhere}/plan",
        data={"csrf": csrf, "plan_type": "sen_support_plan", **_outcome(0, "x", 0)},
    )
    assert refused.status_code == 404
