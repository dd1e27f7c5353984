"""The termly register review pack (issue 16, item 4): a school's, naming its children and
with its notes on complex cases, and the trust's, schools side by side, suppressed, naming
no child. Made for real from the small trust with app records, read back (pypdf, openpyxl)
and compared with the view services the pages use."""

from __future__ import annotations

import io
import re
import shutil
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from doc_fixtures import DocTrust
from pdf_reading import assert_accessible, flat, page_png, pdf_text, unexplained_acronyms
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from empowered.access.documents import DocumentKind
from empowered.analytics.disclosure import DisclosedTable, derivable_keys
from empowered.documents.asking import ask_for
from empowered.documents.made import Made
from empowered.documents.registry import Ask, make_document
from empowered.documents.review_pack import pack_for
from empowered.documents.review_pack_schedule import due_packs, write_due
from empowered.documents.review_pack_school import SchoolPack
from empowered.documents.review_pack_trust import TrustPack, _school_counts
from empowered.documents.terms import UnknownTerm, term_ahead, term_for
from empowered.identity import concern_reader
from empowered.views import PupilScope
from empowered.views.home import attention
from empowered.views.provision import provision_page
from empowered.views.pupil_note import save_note
from empowered.views.register import RegisterFilters, register_page
from empowered.views.school_words import need_label
from identity_keys import TEST_KEYS

K = DocumentKind
TODAY = date(2026, 12, 7)
NOTE = "Settles with a familiar adult; the walk in from the car park is the hard part."


@dataclass(frozen=True)
class Packs:
    path: Path
    school: str
    noted_pupil: str
    school_ask: Ask
    trust_ask: Ask
    school_pack: SchoolPack
    trust_pack: TrustPack
    school_pdf: Made
    school_xlsx: Made
    trust_pdf: Made
    trust_xlsx: Made
    trust_seconds: float


@pytest.fixture(scope="module")
def pack_path(app_records_warehouse: Path, doc_trust: DocTrust, tmp_path_factory: Any) -> Path:
    """A copy of the app-records warehouse with a note on one registered pupil's page."""
    from empowered.access.store import ensure_access_tables

    path = tmp_path_factory.mktemp("review-pack") / "pack.duckdb"
    shutil.copy(app_records_warehouse, path)
    con = duckdb.connect(str(path))
    ensure_access_tables(con)
    pupil = con.execute(
        """SELECT pupil_key FROM marts.register_pupil WHERE school_urn = ? AND on_register
           ORDER BY pupil_key LIMIT 1""",
        [doc_trust.school],
    ).fetchone()
    assert pupil
    save_note(con, str(pupil[0]), NOTE, user_id=1)
    con.close()
    return path


@pytest.fixture(scope="module")
def pack_con(pack_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(pack_path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def packs(pack_con: duckdb.DuckDBPyConnection, pack_path: Path, doc_trust: DocTrust) -> Packs:
    """Each pack in each format, made once (the command line's operator's scope)."""
    school = doc_trust.school

    def ask(kind: DocumentKind, fmt: str) -> Ask:
        urn = None if kind == K.TRUST_REVIEW_PACK else school
        return ask_for(
            pack_con, kind, fmt, scope=None, made_on=TODAY, school_urn=urn, keys=TEST_KEYS
        )

    noted = pack_con.execute("SELECT pupil_key FROM app.pupil_notes").fetchone()
    assert noted
    started = time.perf_counter()
    trust_pdf = make_document(pack_con, ask(K.TRUST_REVIEW_PACK, "pdf"))
    seconds = time.perf_counter() - started
    return Packs(
        pack_path,
        school,
        str(noted[0]),
        ask(K.REVIEW_PACK, "pdf"),
        ask(K.TRUST_REVIEW_PACK, "pdf"),
        pack_for(pack_con, ask(K.REVIEW_PACK, "pdf")),  # type: ignore[arg-type]
        pack_for(pack_con, ask(K.TRUST_REVIEW_PACK, "pdf")),  # type: ignore[arg-type]
        make_document(pack_con, ask(K.REVIEW_PACK, "pdf")),
        make_document(pack_con, ask(K.REVIEW_PACK, "xlsx")),
        trust_pdf,
        make_document(pack_con, ask(K.TRUST_REVIEW_PACK, "xlsx")),
        seconds,
    )


def _sheets(made: Made) -> dict[str, list[list[Any]]]:
    return _book(made.body)


def _book(body: bytes) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(body))
    return {n: [list(r) for r in book.get_sheet_by_name(n).to_python()] for n in book.sheet_names}


def _squeezed(text: str) -> str:
    return unicodedata.normalize("NFC", re.sub(r"\s+", "", text))


def _names_on_register(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every registered pupil's name in the trust, decrypted with the test keys."""
    page = register_page(
        con, scope=PupilScope(None, None, True, suppress=False), filters=RegisterFilters()
    )
    return {p.name for p in page.pupils if p.name}


# -- The school's pack ---------------------------------------------------------------------


def test_the_school_pack_has_every_section_for_the_term_ahead(packs: Packs) -> None:
    text = flat(pdf_text(packs.school_pdf.body))
    for heading in (
        "The term ahead",
        "The register against national figures",
        "Pupils on the register by need",
        "Needs growing or shrinking since last term",
        "Provision against need",
        "Training against need",
        "Attendance that is low or falling",
        "Interventions to keep and to review",
        "Overdue reviews and open actions",
        "Notes on complex cases",
    ):
        assert heading in text, heading
    assert "before the spring term 2027" in text
    # The England figures come with their year.
    national = packs.school_pack.questions
    assert national is not None
    assert any(
        r["national_period"] and r["national_period"] in text for r in national.national.rows
    )
    assert packs.school_pdf.file_name == f"review-pack-{packs.school}-2026-12-07.pdf"


def test_the_school_pack_figures_are_the_view_services(
    packs: Packs, pack_con: duckdb.DuckDBPyConnection
) -> None:
    scope = packs.school_ask.scope
    register = register_page(pack_con, scope=scope, filters=RegisterFilters())
    sheets = _sheets(packs.school_xlsx)
    # The register by need, cell for cell, as the register page counts it.
    by_need = sheets["Register by need"]
    assert [r[1:] for r in by_need[1:]] == [list(r.values())[1:] for r in register.by_need.rows()]
    text = flat(pdf_text(packs.school_pdf.body))
    for row in register.by_need.rows():
        if len(row["label"]) < 25:  # a long need's name wraps in its cell
            assert " ".join([row["label"], *list(row.values())[1:]]) in text, row
    # Overdue plan reviews: the home page's.
    overdue = [i for i in attention(pack_con, scope=scope) if i.kind == "plan_review_overdue"]
    assert len(sheets["Overdue reviews"]) - 1 == len(overdue)
    if overdue:
        s = "" if len(overdue) == 1 else "s"
        assert f"{len(overdue)} plan review{s} overdue" in text
    # An intervention's pupils: the provision map's.
    pm = provision_page(pack_con, scope=scope)
    kept = {(i.intervention_name, i.pupils, i.with_scores) for i in pm.keep + pm.review}
    listed = {(r[1], r[3], r[4]) for r in sheets["Interventions"][1:]}
    assert listed == kept
    assert kept, "the small trust has interventions with a verdict"
    name, pupils, with_scores = sorted(kept)[0]
    assert f"{pupils} {with_scores}" in text


def test_the_school_pack_names_children_and_holds_the_notes_page(packs: Packs) -> None:
    text = flat(pdf_text(packs.school_pdf.body))
    assert NOTE in text
    noted = next(n for n in packs.school_pack.notes if n.pupil_key == packs.noted_pupil)
    assert noted.name and _squeezed(noted.name) in _squeezed(text)  # a name wraps in its cell
    assert [r[4] for r in _sheets(packs.school_xlsx)["Notes"][1:]] == [NOTE]


def test_no_safeguarding_concern_reaches_the_school_pack(
    packs: Packs, pack_con: duckdb.DuckDBPyConnection
) -> None:
    reader = concern_reader(True, TEST_KEYS)
    concerns = [
        reader.text(r[0])
        for r in pack_con.execute(
            "SELECT concern_text FROM core.fct_concern WHERE school_urn = ?", [packs.school]
        ).fetchall()
    ]
    assert concerns, "the small trust has concerns at the school"
    text = flat(pdf_text(packs.school_pdf.body))
    book = str(_sheets(packs.school_xlsx))
    for words in concerns:
        assert words and flat(words)[:40] not in text and flat(words)[:40] not in book


def test_the_school_pack_is_accessible_and_explains_every_acronym(
    packs: Packs, tmp_path: Path
) -> None:
    s = assert_accessible(packs.school_pdf.body)
    assert s.pages == packs.school_pdf.pages and s.tags["Table"] >= 6
    assert unexplained_acronyms(pdf_text(packs.school_pdf.body)) == set()
    png = page_png(packs.school_pdf.body, tmp_path / "school-pack")
    assert png.stat().st_size > 5_000


# -- The trust's pack ------------------------------------------------------------------------


def _small_school_need(packs: Packs, con: duckdb.DuckDBPyConnection) -> tuple[str, int, int]:
    """A (need, school column, count) of 1 to 4 in the schools' exact figures."""
    exact = _school_counts(con, packs.trust_ask.scope, packs.trust_pack.schools, _cache())
    for j, school in enumerate(exact):
        t = school.by_need
        for i, need in enumerate(t.row_labels):
            n = int(t.counts[i].sum())
            if 0 < n < 5:
                return need, j, n
    raise AssertionError("the small trust has a need with 1 to 4 pupils at some school")


def _cache() -> Any:
    from empowered.views.cache import DEFAULT_CACHE

    return DEFAULT_CACHE


def test_the_trust_pack_hides_a_small_school_count_and_it_cannot_be_worked_out(
    packs: Packs, pack_con: duckdb.DuckDBPyConnection
) -> None:
    need, column, count = _small_school_need(packs, pack_con)
    table = packs.trust_pack.counts.by_need
    i = table.row_labels.index(need)
    assert int(table.counts[i, column]) == count  # the same pupils, before suppression
    assert table.display(i, column) == "c"
    # The spreadsheet's cell and the PDF's row hold the symbol, not the count.
    sheet = _sheets(packs.trust_xlsx)["Needs in each school"]
    row = next(r for r in sheet if r[0] == need)
    assert row[1 + column] == "c"
    text = flat(pdf_text(packs.trust_pdf.body))
    if len(need) < 25:
        shown = re.search(re.escape(need) + r"((?: (?:\d+|c))+)", text)
        assert shown, need
        assert shown.group(1).split()[column] == "c"
    # Neither its row nor its column holds it as the only hidden figure (the total minus the
    # rest), nor does any combination of the pack's register tables pin it down.
    assert table.hidden[i].sum() + table.row_total_hidden[i] >= 2
    assert table.hidden[:, column].sum() + table.column_total_hidden[column] >= 2
    results = {
        "trust_by_need": packs.trust_pack.register.by_need,
        "by_status": packs.trust_pack.counts.by_status,
        "by_need": table,
    }
    assert derivable_keys(list(packs.trust_pack.counts.tables), results) == []
    # The check is live: with the small figures alone hidden, some could be worked out.
    bare = {k: _primary_only(t) if k != "trust_by_need" else t for k, t in results.items()}
    assert derivable_keys(list(packs.trust_pack.counts.tables), bare)


def _primary_only(t: DisclosedTable) -> DisclosedTable:
    return replace(
        t,
        hidden=t.primary.copy(),
        row_total_hidden=t.row_total_primary.copy(),
        column_total_hidden=t.column_total_primary.copy(),
        grand_total_hidden=t.grand_total_primary,
    )


def test_the_trust_pack_names_no_child_and_has_no_notes_page(
    packs: Packs, pack_con: duckdb.DuckDBPyConnection
) -> None:
    names = _names_on_register(pack_con)
    assert len(names) > 50
    text = flat(pdf_text(packs.trust_pdf.body))
    book = str(_sheets(packs.trust_xlsx))
    squeezed = _squeezed(text)
    assert not [n for n in names if _squeezed(n) in squeezed or n in book]
    assert NOTE not in text and NOTE not in book
    assert "Notes on complex cases" not in text
    assert "Notes" not in _sheets(packs.trust_xlsx)


def test_the_trust_pack_sets_the_schools_side_by_side(packs: Packs) -> None:
    text = flat(pdf_text(packs.trust_pdf.body))
    for school in packs.trust_pack.schools.rows:
        assert school.school_name in text
    for heading in (
        "The schools side by side",
        "Needs in each school",
        "The register against national figures",
        "Needs growing or shrinking since last term",
        "Provision against need",
        "Interventions to keep and to review",
    ):
        assert heading in text, heading
    sheets = _sheets(packs.trust_xlsx)
    by_status = packs.trust_pack.counts.by_status
    assert [r[1:] for r in sheets["Register by school"][1:]] == [
        list(r.values())[1:] for r in by_status.rows()
    ]


def test_the_trust_pack_is_accessible_quick_and_drawn(packs: Packs, tmp_path: Path) -> None:
    assert_accessible(packs.trust_pdf.body)
    assert unexplained_acronyms(pdf_text(packs.trust_pdf.body)) == set()
    assert page_png(packs.trust_pdf.body, tmp_path / "trust-pack").stat().st_size > 5_000
    assert packs.trust_seconds < 30, packs.trust_seconds


# -- The term --------------------------------------------------------------------------------


def test_the_term_is_the_one_named_or_the_next_to_start(
    pack_con: duckdb.DuckDBPyConnection, packs: Packs
) -> None:
    assert packs.school_pack.term.name == "spring term 2027"
    named = pack_for(pack_con, replace(packs.school_ask, term="Summer 2027"))
    assert named.term.name == "summer term 2027" and named.term.academic_year == "2026/27"
    memory = duckdb.connect()  # no calendar: the usual English terms
    assert term_ahead(memory, None, TODAY).starts_on == date(2027, 1, 4)
    assert term_ahead(memory, None, date(2027, 1, 5)).name == "summer term 2027"
    assert term_for(memory, None, "autumn 2027", TODAY).starts_on == date(2027, 9, 1)
    with pytest.raises(UnknownTerm, match="spring 2027"):
        term_for(memory, None, "next term", TODAY)
    text = flat(
        pdf_text(make_document(pack_con, replace(packs.school_ask, term="summer 2027")).body)
    )
    assert "before the summer term 2027" in text


# -- Who may make it: the web and the command line -----------------------------------------


def _made(app: Any, kind: str) -> int:
    with app.state.warehouse.reading() as con:
        row = con.execute(
            "SELECT count(*) FROM app.audit_log WHERE event = 'document_made' AND detail LIKE ?",
            [f"%{kind}%"],
        ).fetchone()
    return int(row[0]) if row else 0


def test_the_web_gives_the_packs_to_the_senco_and_the_trust_admin_only(
    doc_clients: dict[str, Any], doc_trust: DocTrust, doc_app: Any
) -> None:
    own, other = doc_trust.school, doc_trust.other_school
    senco, admin = doc_clients["senco"], doc_clients["trust_admin"]
    before = _made(doc_app, "review-pack")
    got = senco.get(f"/register/review-pack.pdf?school={own}")
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    assert "Notes on complex cases" in flat(pdf_text(got.content))
    assert _made(doc_app, "review-pack") == before + 1
    assert senco.get(f"/register/review-pack.pdf?school={other}").status_code == 403
    assert senco.get("/register/review-pack.pdf?trust=yes").status_code == 403
    got = admin.get(f"/register/review-pack.xlsx?school={other}&term=summer+2027")
    assert got.status_code == 200 and got.content.startswith(b"PK")
    got = admin.get("/register/review-pack.pdf?trust=yes")
    assert got.status_code == 200 and "Termly register review for the trust" in flat(
        pdf_text(got.content)
    )
    for role in ("teacher", "teaching_assistant", "dsl", "visiting_professional", "trust_analyst"):
        client = doc_clients[role]
        assert client.get(f"/register/review-pack.pdf?school={own}").status_code == 403, role
        assert client.get("/register/review-pack.pdf?trust=yes").status_code == 403, role
    bad = senco.get(f"/register/review-pack.pdf?school={own}&term=soon")
    assert bad.status_code == 400 and "Nothing was made" in bad.text
    page = senco.get("/register").text
    assert f"/register/review-pack.pdf?school={own}" in page


def test_the_command_line_makes_the_packs_for_those_allowed(
    packs: Packs, doc_trust: DocTrust, tmp_path: Path
) -> None:
    from empowered.access.users import add_user
    from empowered.cli import app

    path = tmp_path / "cli.duckdb"
    shutil.copy(packs.path, path)
    con = duckdb.connect(str(path))
    add_user(con, "pack-senco", "correct horse battery staple", "senco", school_urn=packs.school)
    add_user(con, "pack-admin", "correct horse battery staple", "trust_admin")
    add_user(
        con, "pack-teacher", "correct horse battery staple", "teacher", school_urn=packs.school
    )
    con.close()
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["report", "review-pack", *args, "--warehouse", str(path)])

    out = tmp_path / "school.pdf"
    done = run("--school", packs.school, "--out", str(out), "--as", "pack-senco")
    assert done.exit_code == 0, done.output
    assert NOTE in flat(pdf_text(out.read_bytes())), "the SENCo's own note, in their pack"
    refused = run(
        "--school", doc_trust.other_school, "--out", str(tmp_path / "x.pdf"), "--as", "pack-senco"
    )
    assert refused.exit_code == 1 and "cannot make" in refused.output
    assert run("--trust", "--out", str(tmp_path / "t.pdf"), "--as", "pack-teacher").exit_code == 1
    bad = run("--school", packs.school, "--term", "next term", "--out", str(tmp_path / "b.pdf"))
    assert bad.exit_code == 2 and "Nothing was made" in bad.output and "spring 2027" in bad.output
    assert run("--due", "--folder", str(tmp_path / "due")).exit_code == 0
    trust = tmp_path / "trust.xlsx"
    done = run("--trust", "--term", "spring 2027", "--out", str(trust), "--as", "pack-admin")
    assert done.exit_code == 0, done.output
    assert "Needs in each school" in _book(trust.read_bytes())
    con = duckdb.connect(str(path))  # as the command line opened it
    vias = con.execute(
        "SELECT username, detail FROM app.audit_log WHERE event = 'document_made' ORDER BY 1"
    ).fetchall()
    con.close()
    assert [u for u, _ in vias] == ["pack-admin", "pack-senco"]
    assert all("command line" in str(d) for _, d in vias)


# -- The schedule: each pack once, in the two weeks before its term ----------------------------


def test_the_packs_due_are_written_once_in_the_two_weeks_before_the_term(
    pack_con: duckdb.DuckDBPyConnection, packs: Packs, tmp_path: Path
) -> None:
    term = term_ahead(pack_con, packs.school, TODAY)
    assert not due_packs(pack_con, term.starts_on - timedelta(days=20))
    day = term.starts_on - timedelta(days=10)
    due = due_packs(pack_con, day)
    assert {d.school_urn for d in due} >= {packs.school, None}
    assert not due_packs(pack_con, term.starts_on), "a term begun is not ahead"
    ours = next(d for d in due if d.school_urn == packs.school)
    assert ours.file_name == f"review-pack-{packs.school}-{term.season}-{term.year}.pdf"
    written = list(write_due(pack_con, tmp_path, day, keys=TEST_KEYS))
    assert {p.name for p, _ in written} == {d.file_name for d in due}
    assert all(p.stat().st_mode & 0o077 == 0 for p, _ in written), "the server's account only"
    trust = tmp_path / next(d.file_name for d in due if d.school_urn is None)
    assert f"before the {term.name}" in flat(pdf_text(trust.read_bytes()))
    assert list(write_due(pack_con, tmp_path, day, keys=TEST_KEYS)) == []


def test_the_server_writes_the_due_packs_and_audits_them(
    doc_app: Any, doc_trust: DocTrust, tmp_path: Path
) -> None:
    from empowered.settings import get_settings
    from empowered.web.review_pack_schedule import ReviewPackSchedule

    with doc_app.state.warehouse.reading() as con:
        day = term_ahead(con, doc_trust.school, TODAY).starts_on - timedelta(days=3)
    runner = ReviewPackSchedule(doc_app)
    saved = getattr(doc_app.state, "settings", None)
    doc_app.state.settings = get_settings().model_copy(update={"review_pack_dir": tmp_path})
    try:
        before = _made(doc_app, '"schedule"')
        written = runner.tick(day)
        assert written >= 2 and len(list(tmp_path.glob("*.pdf"))) == written
        assert _made(doc_app, '"schedule"') == before + written
        assert runner.tick(day) == 0
    finally:
        doc_app.state.settings = saved


def test_the_needs_since_last_term_are_the_register_at_each_terms_start(
    packs: Packs, pack_con: duckdb.DuckDBPyConnection
) -> None:
    starts = pack_con.execute(
        """SELECT DISTINCT term_start FROM marts.register_need_by_term WHERE school_urn = ?
           ORDER BY 1 DESC LIMIT 2""",
        [packs.school],
    ).fetchall()
    assert len(starts) == 2, "the small trust has two terms begun"
    rows = _sheets(packs.school_xlsx)["Needs since last term"]
    got = {(r[0], j): int(r[1 + j]) for r in rows[1:] if r and r[0] != "Total" for j in (0, 1)}
    for j, (first,) in enumerate(reversed(starts)):
        for code, pupils in pack_con.execute(
            """SELECT primary_need, pupils FROM marts.register_need_by_term
               WHERE school_urn = ? AND term_start = ?""",
            [packs.school, first],
        ).fetchall():
            assert got[(need_label(code), j)] == pupils, (code, first)
    text = flat(pdf_text(packs.school_pdf.body))
    for line in packs.school_pack.needs.growing + packs.school_pack.needs.shrinking:
        assert line in text


def test_a_plan_addresses_attendance_when_it_says_so(
    packs: Packs, pack_con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from empowered.documents import review_pack_school
    from empowered.views.cache import DEFAULT_CACHE

    with_plan = [a for a in packs.school_pack.attendance if a.has_plan]
    assert with_plan, "the small trust has pupils with low attendance and a plan"
    said = {with_plan[0].pupil_key: "Attend school on at least 4 days each week by Easter."}

    def plan(con: Any, key: str, **_: Any) -> Any:
        outcome = SimpleNamespace(text=said.get(key, "Read a page aloud."), provision=None)
        return SimpleNamespace(current=SimpleNamespace(texts=(), outcomes=(outcome,)))

    monkeypatch.setattr(review_pack_school, "plan_page", plan)
    listed = {p.pupil_key: p for p in packs.school_pack.register.pupils}
    found = review_pack_school._attendance(
        pack_con, packs.school_ask, packs.school, listed, DEFAULT_CACHE
    )
    words = {a.pupil_key: a.plan_words for a in found if a.has_plan}
    assert words[with_plan[0].pupil_key] == "yes"
    assert set(words.values()) == ({"yes", "no"} if len(words) > 1 else {"yes"})
