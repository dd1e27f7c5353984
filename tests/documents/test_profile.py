"""The one-page profile (issue 16 item 2): the plan's own words in the child's voice, what
helps, their needs and the next review, on ONE A4 page, for staff new to the child; made
by the staff who may open the child (not visitors, not the analyst), audited, and holding
nothing from the SENCo's note or a safeguarding concern."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from doc_fixtures import record_concern
from pdf_reading import assert_accessible, flat, page_png, pdf_text, unexplained_acronyms
from typer.testing import CliRunner
from web_fixtures import PASSWORD, csrf_of

from empowered.access.audit import read_log
from empowered.access.documents import DocumentKind
from empowered.documents import profile as pr
from empowered.documents.acronyms import acronyms
from empowered.documents.asking import ask_for
from empowered.documents.pdf import render_pdf
from empowered.documents.registry import Ask, heading, make_document
from empowered.plans import TEXT_MAX
from empowered.views.plan import plan_page
from empowered.views.pupil import pupil_picture

DocTrust = Any  # tests/documents/conftest.py's (test folders' conftests cannot be imported)

# Planted where a profile must never reach: the SENCo's note and a safeguarding concern.
NOTE = "Quillfeather sleeps in the car most mornings."
CONCERN = "Zanzibarine bruise seen on the wrist at lunch today"


@dataclass(frozen=True)
class Pupils:
    rich: str  # the current plan with the most words and strategies at the trust's school
    no_plan: str  # at the same school, no current plan (the most strategy uses)
    not_the_teachers: str  # at the school, not in the doc-teacher's group or list


@pytest.fixture(scope="module")
def pupils(doc_con: duckdb.DuckDBPyConnection, doc_trust: DocTrust) -> Pupils:
    rich = doc_con.execute(
        """SELECT p.pupil_key FROM staging.stg_canonical_plans AS p
           LEFT JOIN staging.stg_canonical_plan_outcomes AS o USING (plan_id)
           WHERE p.school_urn = ? AND p._is_current AND p._reject_reason IS NULL
             AND p.end_date IS NULL AND p.strengths IS NOT NULL
           GROUP BY p.pupil_key, p.strengths, p.important_to_me, p.how_to_support
           ORDER BY length(p.strengths) + length(coalesce(p.important_to_me, ''))
                    + length(coalesce(p.how_to_support, '')) + count(o.strategy_codes) * 50 DESC,
                    1 LIMIT 1""",
        [doc_trust.school],
    ).fetchone()
    no_plan = doc_con.execute(
        """SELECT d.pupil_key FROM core.dim_pupil AS d
           JOIN marts.register_pupil AS r USING (pupil_key)
           LEFT JOIN core.fct_strategy_use AS u USING (pupil_key)
           WHERE d.school_urn = ? AND NOT EXISTS (
             SELECT 1 FROM staging.stg_canonical_plans AS p
             WHERE p.pupil_key = d.pupil_key AND p.end_date IS NULL)
           GROUP BY d.pupil_key, r.sen_provision
           ORDER BY count(u.pupil_key) DESC, r.sen_provision = 'N', 1 LIMIT 1""",
        [doc_trust.school],
    ).fetchone()
    # doc_app's teacher has the pupil's first group and the pupil (tests/documents/conftest).
    elsewhere = doc_con.execute(
        """SELECT d.pupil_key FROM core.dim_pupil AS d WHERE d.school_urn = ?
             AND d.pupil_key <> ? AND d.pupil_key NOT IN (
               SELECT m.pupil_key FROM core.bridge_group_member AS m WHERE m.group_code = (
                 SELECT min(group_code) FROM core.bridge_group_member WHERE pupil_key = ?))
           ORDER BY 1 LIMIT 1""",
        [doc_trust.school, doc_trust.pupil, doc_trust.pupil],
    ).fetchone()
    assert rich and no_plan and elsewhere
    return Pupils(str(rich[0]), str(no_plan[0]), str(elsewhere[0]))


def shown(text: str, room: int) -> str:
    """What a page shows of ``text`` whatever room it had (the start of the tightest cut)."""
    return pr.cut(text, room)[0].removesuffix("…")


def operator_ask(con: duckdb.DuckDBPyConnection, pupil_key: str) -> Ask:
    return ask_for(
        con, DocumentKind.PROFILE, "pdf", scope=None, made_on=date.today(), pupil_key=pupil_key
    )


@pytest.fixture(scope="module")
def rich_made(doc_con: duckdb.DuckDBPyConnection, pupils: Pupils) -> tuple[Ask, bytes, int]:
    ask = operator_ask(doc_con, pupils.rich)
    made = make_document(doc_con, ask)
    return ask, made.body, made.pages


def test_the_richest_plan_is_on_one_accessible_page_in_its_own_words(
    doc_con: duckdb.DuckDBPyConnection,
    rich_made: tuple[Ask, bytes, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    ask, body, pages = rich_made
    assert pages == 1
    s = assert_accessible(body)
    assert s.pages == 1
    text = flat(pdf_text(body))
    assert unexplained_acronyms(text) == set()
    plan = plan_page(doc_con, str(ask.pupil_key), scope=ask.scope).current
    picture = pupil_picture(doc_con, str(ask.pupil_key), scope=ask.scope)
    assert plan is not None and picture.identity is not None
    assert picture.identity.name in text
    for heading_text in (
        "What people like and admire about me",
        "What is important to me",
        "How best to support me",
        "What helps",
        "The strategies in my plan",
    ):
        assert heading_text in text
    texts = {name: value for name, _, value in plan.texts}
    for name in ("strengths", "important_to_me", "how_to_support"):
        if texts[name]:
            assert shown(texts[name], pr.TIGHTEST.box) in text, name
    # The needs in words and the review date the pupil page gives.
    assert picture.status.sen_provision_name and picture.status.sen_provision_name in text
    need = picture.status.primary_need_name
    assert need and need.lower() in text.lower()
    held = next(p for p in picture.plans.plans if p.plan_id == plan.plan_id)
    assert held.next_review_due is not None
    assert f"{held.next_review_due.day} {held.next_review_due:%B %Y}" in text
    # What helps: every strategy the plan names (the page has room for them all), with
    # what the analytics say about it for this child.
    named = {s.code: s for o in plan.outcomes for s in o.strategies}
    assert len(named) > pr.TIGHTEST.in_plan, "the richest plan names several strategies"
    for s in named.values():
        assert f"{s.name}: {shown(s.helps, pr.TIGHTEST.helps)}" in text
    assert "more strateg" not in text
    png = page_png(body, tmp_path_factory.mktemp("profile") / "profile")
    assert png.stat().st_size > 5000


def test_strategies_the_check_ins_show_helping_are_listed_and_the_others_are_not(
    doc_con: duckdb.DuckDBPyConnection, rich_made: tuple[Ask, bytes, int]
) -> None:
    ask, body, _ = rich_made
    text = flat(pdf_text(body))
    picture = pupil_picture(doc_con, str(ask.pupil_key), scope=ask.scope)
    plan = plan_page(doc_con, str(ask.pupil_key), scope=ask.scope).current
    assert plan is not None
    named = {s.code for o in plan.outcomes for s in o.strategies}
    others = [e for e in picture.what_helps.effects if e.strategy_code not in named]
    for e in others:
        line = f"{e.strategy_name}: {shown(e.summary, pr.TIGHTEST.helps)}"
        if pr.helped(e):
            assert line in text or "more strateg" in text
        else:
            assert line not in text


def test_the_longest_plan_the_form_takes_still_fits_on_one_page_and_says_where_the_rest_is(
    doc_con: duckdb.DuckDBPyConnection, rich_made: tuple[Ask, bytes, int]
) -> None:
    ask = rich_made[0]
    plan = plan_page(doc_con, str(ask.pupil_key), scope=ask.scope).current
    assert plan is not None
    words = "Kind, funny and patient with younger children; builds marvellous models. "
    longest = (words * (TEXT_MAX // len(words) + 1))[:TEXT_MAX]
    # Staff write the needs' letters in a plan: each one the page explains takes a line.
    lettered = {
        "strengths": "ASD and SLCN, with SEMH",
        "important_to_me": "MLD, SPLD and HI",
        "how_to_support": "EAL; ELSA sessions and PE",
    }
    plan = replace(
        plan,
        texts=tuple((n, label, f"{lettered.get(n, '')}: {longest}") for n, label, _ in plan.texts),
    )
    helps = tuple(pr.Helps(f"A strategy with a long name, number {n}", longest) for n in range(9))
    base = pr.profile(doc_con, ask)
    worst = replace(
        base,
        about=base.about + " Montgomery-Fitzwilliam",
        plan="EHC plan, since 1 September 2026",  # an EHC plan and SEN support: both explained
        needs="SEN support; main need: speech, language and communication needs.",
        review="The review was due on 30 November 2026 and has not been held yet.",
        boxes=pr._boxes(plan),
        in_plan=pr.HelpsList(helps),
        seen_helping=pr.HelpsList(helps),
        helps_summary="9 strategies with enough uses to judge; standing out: "
        + ", ".join(h.name for h in helps),
    )
    h = heading(doc_con, ask, worst.about)
    h = replace(
        h,
        prepared_by="a-very-long-username, SENCo (special educational needs co-ordinator)",
        letterhead=replace(
            h.letterhead, school_name="St Bartholomew's Church of England Primary Academy"
        ),
    )
    # The tightest room is the promise: whatever the plan holds, it fits.
    assert render_pdf(pr.render_profile(h, pr.fitted(worst, pr.TIGHTEST)))[1] == 1
    assert render_pdf(pr.render_profile(h, pr.fitted(worst, pr.ROOMS[0])))[1] > 1
    body, pages = pr.one_page(h, worst)
    assert pages == 1, "the profile ran onto a second page"
    text = flat(pdf_text(body))
    assert text.count(pr.PLAN_REST) == 3
    listed = text.count("A strategy with a long name, number")
    assert f"And {2 * len(helps) - listed} more strategies: see “What helps” on my page" in text
    assert unexplained_acronyms(text) == set()
    assert {"ASD", "MLD", "SPLD", "ELSA"} <= acronyms(text)


def test_a_child_with_no_plan_gets_a_page_that_says_so_with_what_the_school_knows(
    doc_con: duckdb.DuckDBPyConnection, pupils: Pupils
) -> None:
    ask = operator_ask(doc_con, pupils.no_plan)
    made = make_document(doc_con, ask)
    assert made.pages == 1
    text = flat(pdf_text(made.body))
    assert "I have no current plan, so this page cannot say" in text
    assert "What people like and admire about me" not in text
    picture = pupil_picture(doc_con, pupils.no_plan, scope=ask.scope)
    needs = pr._needs(picture.status)
    assert needs and needs in text
    assert "Strategies that have helped" in text
    assert shown(picture.what_helps.summary, pr.TIGHTEST.summary).rstrip(".")[1:] in text
    assert unexplained_acronyms(text) == set()
    assert_accessible(made.body)


# -- The web ------------------------------------------------------------------------------


def get_profile(clients: dict[str, Any], role: str, pupil: str) -> Any:
    return clients[role].get(f"/pupils/{pupil}/documents/profile.pdf")


def audited(client: Any, pupil: str) -> list[dict[str, Any]]:
    with client.app.state.warehouse.reading() as con:
        return read_log(con, event="document_made", pupil_key=pupil)


def what_it_says(con: duckdb.DuckDBPyConnection, username: str, pupil: str) -> pr.Profile:
    """The profile's content for this account's own scope, from the services."""
    from empowered.access.policy import scope_for
    from empowered.access.users import find_user

    user = find_user(con, username)
    assert user is not None
    scope = scope_for(con, user, today=date.today())
    ask = ask_for(
        con, DocumentKind.PROFILE, "pdf", scope=scope, made_on=date.today(), pupil_key=pupil
    )
    return pr.profile(con, ask)


def assert_says(text: str, p: pr.Profile) -> None:
    """The PDF's text holds what the services say for whoever made it."""
    for part in (p.about, p.needs, p.plan, p.review):
        assert part is None or part in text, part
    for box in p.boxes:
        assert box.heading in text
        assert shown(box.text, pr.TIGHTEST.box) in text if box.text else "Not written" in text
    for h in p.in_plan.shown[: pr.TIGHTEST.in_plan] + p.seen_helping.shown[:1]:
        assert f"{h.name}: {shown(h.words, pr.TIGHTEST.helps)}" in text


@pytest.mark.parametrize("role", ["senco", "teacher", "teaching_assistant"])
def test_staff_who_work_with_the_child_make_it_on_the_web_and_it_is_audited(
    doc_clients: dict[str, Any], doc_trust: DocTrust, role: str
) -> None:
    client = doc_clients[role]
    before = len(audited(client, doc_trust.pupil))
    response = get_profile(doc_clients, role, doc_trust.pupil)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert doc_trust.pupil in response.headers["content-disposition"]
    text = flat(pdf_text(response.content))
    assert "One-page profile" in text and "What helps" in text
    username = f"doc-{role.replace('_', '-')}"
    with client.app.state.warehouse.reading() as con:
        assert_says(text, what_it_says(con, username, doc_trust.pupil))
    assert pdf_page_count(response.content) == 1
    log = audited(client, doc_trust.pupil)
    assert len(log) == before + 1
    assert log[0]["username"] == username
    assert log[0]["detail"]["kind"] == "profile" and log[0]["detail"]["via"] == "web"


def pdf_page_count(body: bytes) -> int:
    return len(pdf_text(body).split("\f"))


@pytest.mark.parametrize(
    ("role", "whose"),
    [
        ("visiting_professional", "pupil"),
        ("trust_analyst", "pupil"),
        ("teacher", "not_the_teachers"),
        ("senco", "other_school_pupil"),
    ],
)
def test_visitors_the_analyst_and_staff_of_other_pupils_are_refused(
    doc_clients: dict[str, Any], doc_trust: DocTrust, pupils: Pupils, role: str, whose: str
) -> None:
    pupil = getattr(pupils, whose, None) or getattr(doc_trust, whose)
    before = len(audited(doc_clients["senco"], pupil))
    response = get_profile(doc_clients, role, pupil)
    assert response.status_code in (403, 404)
    assert response.headers["content-type"] != "application/pdf"
    assert len(audited(doc_clients["senco"], pupil)) == before


def test_nothing_from_the_senco_note_or_a_concern_reaches_the_profile(
    doc_clients: dict[str, Any], pupils: Pupils
) -> None:
    pupil = pupils.rich
    senco, dsl = doc_clients["senco"], doc_clients["dsl"]
    page = senco.get(f"/pupils/{pupil}")
    noted = senco.post(
        f"/pupils/{pupil}/note",
        data={"note": NOTE, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert noted.status_code == 303
    assert NOTE in senco.get(f"/pupils/{pupil}").text  # the page shows it to the SENCo
    record_concern(senco, pupil, CONCERN)
    assert CONCERN in dsl.get(f"/pupils/{pupil}/chronology").text  # the DSL reads it
    for role in ("senco", "dsl"):
        response = get_profile(doc_clients, role, pupil)
        assert response.status_code == 200, role
        text = flat(pdf_text(response.content))
        assert "What people like and admire about me" in text
        assert "Quillfeather" not in text and "Zanzibarine" not in text, role
        assert pdf_page_count(response.content) == 1


# -- The command line ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_warehouse(
    doc_warehouse: Path, doc_trust: DocTrust, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of the documents' warehouse with a SENCo, a teacher and a teaching assistant
    of the pupil, a visitor and the analyst."""
    from argon2 import PasswordHasher

    from empowered.access import passwords
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user

    path = tmp_path_factory.mktemp("profile-cli") / "cli.duckdb"
    shutil.copy(doc_warehouse, path)
    saved = passwords._HASHER
    passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # type: ignore[attr-defined]
    con = duckdb.connect(str(path))
    ensure_access_tables(con)
    school, pupil = doc_trust.school, doc_trust.pupil
    accounts: list[tuple[str, str, dict[str, Any]]] = [
        ("cli-senco", "senco", {"school_urn": school}),
        ("cli-teacher", "teacher", {"school_urn": school, "pupils": (pupil,)}),
        ("cli-ta", "teaching_assistant", {"school_urn": school, "pupils": (pupil,)}),
        (
            "cli-visitor",
            "visiting_professional",
            {
                "school_urn": school,
                "pupils": (pupil,),
                "areas": ("register", "strategies"),
                "expires_on": date.today().replace(year=date.today().year + 1),
            },
        ),
        ("cli-analyst", "trust_analyst", {}),
    ]
    for username, role, extra in accounts:
        add_user(con, username, PASSWORD, role, **extra)
    con.close()
    passwords._HASHER = saved  # type: ignore[attr-defined]
    return path


@pytest.mark.parametrize(
    ("as_user", "whose", "exit_code"),
    [
        (None, "pupil", 0),
        ("cli-senco", "pupil", 0),
        ("cli-teacher", "pupil", 0),
        ("cli-ta", "pupil", 0),
        ("cli-visitor", "pupil", 1),
        ("cli-analyst", "pupil", 1),
        ("cli-teacher", "not_the_teachers", 1),
    ],
)
def test_the_command_line_makes_it_for_staff_of_the_child_and_not_for_others(
    cli_warehouse: Path,
    doc_trust: DocTrust,
    pupils: Pupils,
    tmp_path: Path,
    as_user: str | None,
    whose: str,
    exit_code: int,
) -> None:
    from empowered.cli import app

    pupil = getattr(pupils, whose, None) or getattr(doc_trust, whose)
    out = tmp_path / "profile.pdf"
    args = ["report", "profile", pupil, "--out", str(out)]
    args += ["--warehouse", str(cli_warehouse)] + (["--as", as_user] if as_user else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == exit_code, result.output
    con = duckdb.connect(str(cli_warehouse))
    try:
        log = read_log(con, event="document_made", pupil_key=pupil, limit=10)
        expected = what_it_says(con, as_user, pupil) if as_user and not exit_code else None
    finally:
        con.close()
    if exit_code:
        assert not out.exists() and "cannot make this document" in result.output
        assert not any(e["username"] == as_user for e in log)
        return
    assert "pages written to" in result.output
    text = flat(pdf_text(out.read_bytes()))
    assert "One-page profile" in text and pdf_page_count(out.read_bytes()) == 1
    if expected is not None:
        assert_says(text, expected)
    assert log and log[0]["username"] == as_user and log[0]["detail"]["via"] == "command line"


def test_words_after_a_colon_start_small_but_letters_stay_capitals() -> None:
    assert pr._lower_first("Autistic spectrum disorder.") == "autistic spectrum disorder"
    assert pr._lower_first("ASD") == "ASD"
    assert pr.cut("one two three four", 10) == ("one two…", True)
    assert pr.cut("one  two", 10) == ("one two", False)
