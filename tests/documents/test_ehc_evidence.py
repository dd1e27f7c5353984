"""The EHC needs-assessment evidence pack (issue 16, item 3): its sections in the order
authorities' forms use, figures equal to the view services', the completeness check, the
notional budget as information only, the redaction (no safeguarding, no staff notes),
accessibility, the XLSX appendix, and who may make it (command line and web, audited)."""

from __future__ import annotations

import io
import re
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest
from doc_fixtures import record_concern
from fastapi.testclient import TestClient
from pdf_reading import assert_accessible, flat, page_png, pdf_text, unexplained_acronyms
from web_fixtures import csrf_of

from empowered.access.audit import read_log
from empowered.access.documents import DocumentKind
from empowered.analytics.wording import percent
from empowered.documents import ehc_evidence
from empowered.documents.asking import ask_for
from empowered.documents.ehc_completeness import NOTHING_MISSING, PackFacts, gaps
from empowered.documents.ehc_evidence_pack import EhcPack, gather
from empowered.documents.made import Made
from empowered.documents.registry import Ask, make_document
from empowered.settings import get_settings
from empowered.views.pupil import pupil_picture

if TYPE_CHECKING:  # the documents' conftest (not importable by name: tests/ has one too)
    from doc_fixtures import DocTrust

EHC = DocumentKind.EHC_EVIDENCE
TODAY = date.today()
SECTIONS = (
    "Before sending: what an authority will find missing",
    "1. Who completed this",
    "2. The child and the setting",
    "3. The graduated approach and its impact",
    "4. Need across the four broad areas, and progress over time",
    "5. Costed provision map",
    "6. Professional reports",
    "7. The child's and the parents' views",
    "8. Outcomes sought",
    "Words used in this document",
)
NOT_A_CONDITION = (
    "Spending this amount is not a condition for asking for an EHC needs assessment: "
    "the law sets no such threshold"
)
CONCERN_WORDS = "Zebra-kite disclosure behind the music block"
NOTE_WORDS = "Quokka staffroom note never for the authority"
REPORT_WORDS = "Narwhal advice: a visual timetable at each change of lesson"


def _ask(con: duckdb.DuckDBPyConnection, pupil: str, fmt: str = "pdf") -> Ask:
    return ask_for(
        con, EHC, fmt, scope=None, made_on=TODAY, pupil_key=pupil, keys=get_settings().keys()
    )


@pytest.fixture(scope="module")
def rich(doc_con: duckdb.DuckDBPyConnection, doc_trust: DocTrust) -> tuple[Ask, EhcPack, str]:
    """The pupil with the most reviews and provision: the pack, and its PDF's text."""
    ask = _ask(doc_con, doc_trust.pupil)
    pack = gather(doc_con, doc_trust.pupil, ask.scope, keys=ask.keys)
    started = time.perf_counter()
    made = make_document(doc_con, ask)
    rich_pdf["seconds"] = time.perf_counter() - started
    rich_pdf["body"] = made.body
    return ask, pack, flat(pdf_text(made.body))


rich_pdf: dict[str, Any] = {}


@pytest.fixture(scope="module")
def sparse_pupil(doc_con: duckdb.DuckDBPyConnection, doc_trust: DocTrust) -> str:
    """A pupil of the same school on the SEN register with no review held."""
    row = doc_con.execute(
        """SELECT p.pupil_key FROM core.dim_pupil AS p
           JOIN marts.register_pupil AS s USING (pupil_key)
           WHERE p.school_urn = ? AND s.sen_provision = 'K'
             AND p.pupil_key NOT IN (SELECT pupil_key FROM core.fct_review_meeting)
             AND p.pupil_key NOT IN (SELECT pupil_key FROM core.fct_plan_review)
           ORDER BY 1 LIMIT 1""",
        [doc_trust.school],
    ).fetchone()
    assert row, "the small trust has a pupil on SEN support with no review"
    return str(row[0])


@pytest.fixture(scope="module")
def sparse_text(doc_con: duckdb.DuckDBPyConnection, sparse_pupil: str) -> str:
    return flat(pdf_text(make_document(doc_con, _ask(doc_con, sparse_pupil)).body))


# -- The completeness check, rule by rule (pure) -------------------------------------------

COMPLETE = PackFacts(
    made_on=TODAY,
    reviewed_cycles=2,
    outcomes=3,
    outcomes_without_baseline=(),
    latest_report_on=TODAY - timedelta(days=30),
    has_pupil_views=True,
    has_parent_views=True,
    uncosted_provision=(),
)


def test_a_complete_pack_has_nothing_missing() -> None:
    assert gaps(COMPLETE) == ()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"reviewed_cycles": 1}, "Only one reviewed cycle"),
        ({"reviewed_cycles": 0}, "No reviewed cycle"),
        ({"outcomes": 0}, "No current plan with outcomes"),
        ({"outcomes_without_baseline": ("Read ten words",)}, "1 outcome has no baseline"),
        ({"latest_report_on": None}, "none is recorded"),
        ({"latest_report_on": TODAY - timedelta(days=400)}, "in the last 12 months"),
        ({"has_pupil_views": False}, "The child's own views are not recorded"),
        ({"has_parent_views": False}, "The parents' or carers' views are not recorded"),
        ({"uncosted_provision": ("Reading club", "Lego")}, "2 interventions have no cost"),
    ],
)
def test_each_rule_flags_what_is_missing_and_says_what_to_do(
    change: dict[str, Any], words: str
) -> None:
    from dataclasses import replace

    found = gaps(replace(COMPLETE, **change))
    assert len(found) == 1, found
    assert words in found[0].what
    assert found[0].fix and found[0].fix[0].isupper()


def test_a_report_just_inside_twelve_months_counts() -> None:
    from dataclasses import replace

    assert gaps(replace(COMPLETE, latest_report_on=TODAY - timedelta(days=365))) == ()


# -- The PDF ------------------------------------------------------------------------------


def test_the_sections_come_in_the_order_of_the_authorities_forms(
    rich: tuple[Ask, EhcPack, str],
) -> None:
    _, _, text = rich
    at = [text.find(s) for s in SECTIONS]
    assert all(i >= 0 for i in at), dict(zip(SECTIONS, at, strict=True))
    assert at == sorted(at)


def test_figures_are_the_view_services(
    rich: tuple[Ask, EhcPack, str], doc_con: duckdb.DuckDBPyConnection
) -> None:
    ask, pack, text = rich
    assert ask.pupil_key
    picture = pupil_picture(doc_con, ask.pupil_key, scope=ask.scope)
    assert picture.provision.enrolments and picture.attendance.terms
    registers = 0
    for e in picture.provision.enrolments:
        assert e.intervention_name in text
        if e.cost_per_pupil:
            assert f"£{e.cost_per_pupil:,.0f}" in text
        recorded = doc_con.execute(
            "SELECT has_session_records FROM marts.provision_enrolment WHERE enrolment_id = ?",
            [e.enrolment_id],
        ).fetchone()
        if e.sessions_planned and recorded and recorded[0]:
            assert f"{e.sessions_delivered or 0} of {e.sessions_planned}" in text
            registers += 1
        elif e.sessions_planned:
            assert f"{e.sessions_planned} planned; delivery not recorded" in text
    assert registers, "the pupil's intervention group keeps a register of sessions"
    in_year = doc_con.execute(
        """SELECT count(*), coalesce(sum(cost_per_pupil), 0) FROM marts.provision_enrolment
           WHERE pupil_key = ? AND in_as_of_year""",
        [ask.pupil_key],
    ).fetchone()
    assert in_year
    assert f"{pack.year} (this year) {in_year[0]} £{in_year[1]:,.0f}" in text
    for t in picture.attendance.terms:
        row = (
            f"{str(t['term']).capitalize()} {t['academic_year']} {t['possible']} {t['present']} "
            f"{t['authorised']} {t['unauthorised']} {percent(float(t['attendance_rate']))}"
        )
        assert row in text, row


def test_the_budget_is_information_and_never_a_condition(rich: tuple[Ask, EhcPack, str]) -> None:
    _, _, text = rich
    assert NOT_A_CONDITION in text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    about_money = [s for s in sentences if "£6,000" in s or "threshold" in s]
    assert about_money
    for s in about_money:
        if "not a condition" in s:
            continue
        assert not re.search(r"\b(must|required|requires|need to|has to|only if|before)\b", s), s


def test_accessible_plain_and_drawn(rich: tuple[Ask, EhcPack, str], tmp_path: Path) -> None:
    _, _, text = rich
    body = rich_pdf["body"]
    assert_accessible(body)
    assert unexplained_acronyms(text) == set()
    assert "early sign" not in text.lower() and "safeguarding" not in text.lower()
    png = page_png(body, tmp_path / "ehc-evidence", page=1)
    assert png.exists()
    assert rich_pdf["seconds"] < 20, rich_pdf["seconds"]


def test_the_completeness_check_flags_too_little_and_not_a_complete_record(
    rich: tuple[Ask, EhcPack, str], sparse_text: str
) -> None:
    _, pack, text = rich
    # The richest pupil's record has what the sparse one lacks: reviews, views, costs.
    assert pack.cycles and any(c.review.pupil_views for c in pack.cycles)
    assert any(c.review.parent_views for c in pack.cycles)
    assert pack.provision and all(line.enrolment.cost_per_pupil for line in pack.provision)
    rich_head = text.split("1. Who completed this", 1)[0]
    for absent in (
        "No reviewed cycle",
        "The child's own views are not recorded",
        "The parents' or carers' views are not recorded",
        "no cost recorded",
    ):
        assert absent not in rich_head, absent
    head = sparse_text.split("1. Who completed this", 1)[0]
    assert "No reviewed cycle of assess, plan, do and review is recorded" in head
    assert "What to do: Record each review held" in head
    assert "The child's own views are not recorded" in head
    assert "The parents' or carers' views are not recorded" in head
    assert NOTHING_MISSING not in head


def test_an_ehc_plan_is_evidence_for_its_annual_review(
    rich: tuple[Ask, EhcPack, str], sparse_text: str
) -> None:
    _, pack, text = rich
    assert pack.is_ehc, "the richest pupil of the small trust has an EHC plan"
    assert text.count(ehc_evidence.ANNUAL_REVIEW_TITLE) >= 2  # the title and the page foot
    assert "as evidence for its annual review" in text
    assert pack.steps and "Annual review of the EHC plan: the steps" in text
    for step in pack.steps:
        assert f"{step.label} {step.status}" in text
    assert ehc_evidence.ANNUAL_REVIEW_TITLE not in sparse_text
    assert "Evidence for an EHC needs assessment" in sparse_text
    assert "Annual review of the EHC plan" not in sparse_text


def test_nothing_missing_is_said_in_words(
    rich: tuple[Ask, EhcPack, str],
    doc_con: duckdb.DuckDBPyConnection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ask, _, _ = rich
    monkeypatch.setattr(ehc_evidence, "gaps", lambda facts: ())
    text = flat(pdf_text(make_document(doc_con, ask).body))
    assert NOTHING_MISSING in text.split("1. Who completed this", 1)[0]


# -- The XLSX appendix ----------------------------------------------------------------------


def _sheets(made: Made) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(made.body))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def test_the_appendix_opens_and_its_rows_are_the_pdfs(
    rich: tuple[Ask, EhcPack, str], doc_con: duckdb.DuckDBPyConnection
) -> None:
    ask, pack, text = rich
    assert ask.pupil_key
    made = make_document(doc_con, _ask(doc_con, ask.pupil_key, "xlsx"))
    assert made.format == "xlsx" and made.file_name.endswith(".xlsx")
    sheets = _sheets(made)
    assert list(sheets)[:2] == ["Completeness", "SEN status over time"]
    for name in ("Plans", "Outcomes", "Reviews and progress", "Provision", "Assessments"):
        assert name in sheets
    provision = sheets["Provision"]
    header, rows = provision[0], provision[1:]
    assert len(rows) == len(pack.provision)
    cost = header.index("Cost per pupil (£)")
    name = header.index("Intervention")
    sessions = header.index("Sessions")
    for row in rows:
        assert str(row[name]) in text and str(row[sessions]) in text
        if row[cost] not in ("", None) and row[cost]:
            assert f"£{float(row[cost]):,.0f}" in text
    for year, count, total, _ in sheets["Cost by school year"][1:]:
        assert re.search(
            rf"{re.escape(str(year))}( \(this year\))? {int(count)} £{float(total):,.0f}", text
        )
    attendance = sheets["Attendance by term"]
    for row in attendance[1:]:
        assert f"{percent(float(row[-1]) / 100)}" in text
    assert len(attendance) - 1 == len(pack.picture.attendance.terms)
    reviews = sheets["Reviews and progress"]
    assert {r[3] for r in reviews[1:]} == {c.review.held_on.isoformat() for c in pack.cycles}
    gaps_sheet = [r[0] for r in sheets["Completeness"][1:]]
    for what in gaps_sheet:
        assert flat(str(what)) in text


# -- Who may make it ------------------------------------------------------------------------


def _plant(clients: dict[str, TestClient], pupil: str) -> None:
    """A safeguarding concern (by the DSL), a staff-only note (by the SENCo) and a visiting
    professional's report, each through the app's own forms."""
    dsl = clients["dsl"]
    record_concern(dsl, pupil, CONCERN_WORDS)
    assert CONCERN_WORDS in dsl.get(f"/pupils/{pupil}/chronology").text
    senco = clients["senco"]
    page = senco.get(f"/pupils/{pupil}")
    noted = senco.post(
        f"/pupils/{pupil}/note",
        data={"csrf": csrf_of(page.text), "note": NOTE_WORDS},
        follow_redirects=False,
    )
    assert noted.status_code == 303
    assert NOTE_WORDS in senco.get(f"/pupils/{pupil}").text
    visitor = clients["visiting_professional"]
    form = visitor.get(f"/pupils/{pupil}/contributions/new")
    added = visitor.post(
        f"/pupils/{pupil}/contributions/new",
        data={
            "csrf": csrf_of(form.text),
            "area": "wellbeing",
            "title": "Educational psychology visit",
            "note": REPORT_WORDS,
            "visited_on": (TODAY - timedelta(days=3)).isoformat(),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text[:300]


def test_the_senco_makes_it_on_the_web_audited_and_redacted(
    doc_clients: dict[str, TestClient], doc_trust: DocTrust
) -> None:
    pupil = doc_trust.pupil
    _plant(doc_clients, pupil)
    senco = doc_clients["senco"]
    pdf = senco.get(f"/pupils/{pupil}/documents/ehc-evidence.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = flat(pdf_text(pdf.content))
    assert REPORT_WORDS in text and "Educational psychology visit" in text
    assert CONCERN_WORDS not in text and NOTE_WORDS not in text
    xlsx = senco.get(f"/pupils/{pupil}/documents/ehc-evidence.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    cells = str(_sheets(Made(EHC, "xlsx", xlsx.content, "", pupil, None, 0)))
    assert REPORT_WORDS in cells
    assert CONCERN_WORDS not in cells and NOTE_WORDS not in cells
    app = senco.app
    with app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        made = read_log(con, event="document_made", pupil_key=pupil)
    formats = {(e["username"], e["detail"]["kind"], e["detail"]["format"]) for e in made}
    assert {("doc-senco", "ehc-evidence", "pdf"), ("doc-senco", "ehc-evidence", "xlsx")} <= formats


@pytest.mark.parametrize(
    "role", ["teacher", "dsl", "visiting_professional", "trust_analyst", "teaching_assistant"]
)
def test_other_roles_may_not_make_it(
    doc_clients: dict[str, TestClient], doc_trust: DocTrust, role: str
) -> None:
    for fmt in ("pdf", "xlsx"):
        got = doc_clients[role].get(f"/pupils/{doc_trust.pupil}/documents/ehc-evidence.{fmt}")
        assert got.status_code in (403, 404), (role, fmt)
        assert not got.content.startswith(b"%PDF")


def test_the_senco_may_not_make_it_for_another_schools_pupil(
    doc_clients: dict[str, TestClient], doc_trust: DocTrust
) -> None:
    got = doc_clients["senco"].get(
        f"/pupils/{doc_trust.other_school_pupil}/documents/ehc-evidence.pdf"
    )
    assert got.status_code in (403, 404)


def test_the_command_line_makes_both_audited_and_refuses_a_teacher(
    doc_warehouse: Path, doc_trust: DocTrust, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from empowered.access.users import add_user
    from empowered.cli import app

    copy = tmp_path / "cli.duckdb"
    shutil.copy(doc_warehouse, copy)
    con = duckdb.connect(str(copy))
    add_user(con, "ehc-senco", "correct horse battery staple", "senco", school_urn=doc_trust.school)
    add_user(
        con,
        "ehc-teacher",
        "correct horse battery staple",
        "teacher",
        school_urn=doc_trust.school,
        pupils=(doc_trust.pupil,),
    )
    con.close()
    runner = CliRunner()
    base = ["report", "ehc-evidence", doc_trust.pupil, "--warehouse", str(copy)]
    for fmt in ("pdf", "xlsx"):
        out = tmp_path / f"pack.{fmt}"
        done = runner.invoke(app, [*base, "--out", str(out), "--as", "ehc-senco"])
        assert done.exit_code == 0, done.output
        assert out.read_bytes()[:4] in (b"%PDF", b"PK\x03\x04")
    refused = runner.invoke(app, [*base, "--out", str(tmp_path / "no.pdf"), "--as", "ehc-teacher"])
    assert refused.exit_code == 1 and not (tmp_path / "no.pdf").exists()
    assert "cannot make this document" in refused.output
    elsewhere = runner.invoke(
        app,
        [
            *base[:2],
            doc_trust.other_school_pupil,
            *base[3:],
            "--out",
            str(tmp_path / "elsewhere.pdf"),
            "--as",
            "ehc-senco",
        ],
    )
    assert elsewhere.exit_code == 1 and not (tmp_path / "elsewhere.pdf").exists()
    con = duckdb.connect(str(copy))  # as the command line opened it, in this process
    made = read_log(con, event="document_made", pupil_key=doc_trust.pupil)
    con.close()
    assert sorted(e["detail"]["format"] for e in made) == ["pdf", "xlsx"]
    assert {e["username"] for e in made} == {"ehc-senco"}
