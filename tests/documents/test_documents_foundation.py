"""What every document shares (issue 16): who may make which (the policy), what each may
hold (the redaction rules, in one place), a PDF that fetches nothing, the letterhead, and
every acronym explained inside the document."""

from __future__ import annotations

import base64
import shutil
import socket
import threading
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from doc_fixtures import DocTrust
from pdf_reading import assert_accessible, pdf_text, unexplained_acronyms

from empowered.access.documents import (
    DOCUMENT_RULES,
    NEVER_FOR_FAMILIES,
    PUPIL_DOCUMENTS,
    DocumentKind,
)
from empowered.access.policy import Scope, document_sections, may_make_document
from empowered.access.roles import Role
from empowered.access.sections import SECTION_RULES, Section
from empowered.access.users import User
from empowered.documents.acronyms import words_used
from empowered.documents.letterhead import LetterheadRefused, letterhead, set_letterhead
from empowered.documents.pdf import render_pdf
from empowered.documents.render import Heading, render_document
from empowered.documents.scope import document_scope

K = DocumentKind
SCHOOL, OTHER = "100001", "100002"
# A 1 x 1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _scope(
    role: Role, *, school: str | None = SCHOOL, pupils: frozenset[str] | None = None
) -> Scope:
    user = User(1, role.value, role, school, (), (), (), None, False, False)
    schools = None if school is None else frozenset({school})
    areas = frozenset({"wellbeing", "strategies"}) if role is Role.VISITING_PROFESSIONAL else None
    identified = role is not Role.TRUST_ANALYST
    read_only = role in (Role.VISITING_PROFESSIONAL, Role.TRUST_ANALYST)
    on_roll = frozenset({"p1", "p2"}) if school and pupils is None else None
    return Scope(user, schools, pupils, identified, areas, read_only, school_pupils=on_roll)


def test_no_document_for_families_or_the_authority_holds_safeguarding_or_staff_notes() -> None:
    for kind in (K.PARENT, K.EHC_EVIDENCE, K.TRUST_REVIEW_PACK):
        rule = DOCUMENT_RULES[kind]
        assert not rule.sections & NEVER_FOR_FAMILIES, kind
        assert "safeguarding" not in rule.areas, kind
        # No section of the rule belongs to the safeguarding area or needs its permissions.
        for section in rule.sections:
            r = SECTION_RULES[section]
            assert r.area != "safeguarding", (kind, section)
            assert r.permission not in ("view_triggers", "view_concerns"), (kind, section)
    # The parent report: no incidents (other children), no visitors' working notes.
    parent = DOCUMENT_RULES[K.PARENT].sections
    assert Section.PUPIL_BEHAVIOUR not in parent and Section.PUPIL_CONTRIBUTIONS not in parent
    assert Section.PUPIL_TIMELINE not in parent
    # The trust's pack names no child and suppresses its counts.
    trust = DOCUMENT_RULES[K.TRUST_REVIEW_PACK]
    assert not trust.names_pupils and trust.leaves_school and trust.trust_wide
    assert Section.REGISTER_LIST not in trust.sections and Section.PUPIL_NOTE not in trust.sections


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.SENCO, {K.PARENT, K.PROFILE, K.EHC_EVIDENCE, K.REVIEW_PACK}),
        (Role.DSL, {K.PROFILE}),
        (Role.TEACHER, {K.PROFILE}),
        (Role.TEACHING_ASSISTANT, {K.PROFILE}),
        (Role.VISITING_PROFESSIONAL, set()),
        (Role.TRUST_ANALYST, set()),
    ],
)
def test_who_may_make_which_document_at_their_school(
    role: Role, allowed: set[DocumentKind]
) -> None:
    pupils = frozenset({"p1"}) if role in (Role.TEACHER, Role.TEACHING_ASSISTANT) else None
    if role is Role.VISITING_PROFESSIONAL:
        pupils = frozenset({"p1"})
    scope = _scope(role, pupils=pupils)
    made = {
        kind
        for kind in DocumentKind
        if may_make_document(
            scope,
            kind,
            school_urn=SCHOOL,
            pupil_key="p1" if kind in PUPIL_DOCUMENTS else None,
        )
    }
    assert made == allowed
    # Never for another school's pupil or another school.
    for kind in DocumentKind:
        assert not may_make_document(
            scope, kind, school_urn=OTHER, pupil_key="p1" if kind in PUPIL_DOCUMENTS else None
        )


def test_the_trust_admin_makes_review_packs_and_profiles_but_not_parent_reports() -> None:
    admin = _scope(Role.TRUST_ADMIN, school=None)
    assert may_make_document(admin, K.TRUST_REVIEW_PACK, school_urn=None)
    assert may_make_document(admin, K.REVIEW_PACK, school_urn=OTHER)
    assert may_make_document(admin, K.PROFILE, school_urn=SCHOOL, pupil_key="p1")
    # The SENCo meets the parents and asks the authority for an assessment, not the admin.
    assert not may_make_document(admin, K.PARENT, school_urn=SCHOOL, pupil_key="p1")
    assert not may_make_document(admin, K.EHC_EVIDENCE, school_urn=SCHOOL, pupil_key="p1")
    # A one-school SENCo cannot make the trust's pack.
    assert not may_make_document(_scope(Role.SENCO), K.TRUST_REVIEW_PACK, school_urn=None)


def test_a_documents_scope_is_the_users_narrowed_to_the_documents_rule() -> None:
    dsl = _scope(Role.DSL)
    profile = document_scope(dsl, K.PROFILE, school_urn=SCHOOL)
    assert profile.sections is not None and profile.areas is not None
    # The DSL sees no strategies on their own pages, so not in a profile either.
    assert "strategies" not in profile.areas
    assert Section.PUPIL_WHAT_HELPS.value not in profile.sections
    senco = document_scope(_scope(Role.SENCO), K.PARENT, school_urn=SCHOOL)
    assert senco.sections == frozenset(str(s) for s in DOCUMENT_RULES[K.PARENT].sections)
    assert senco.schools == frozenset({SCHOOL}) and senco.identified
    # The operator's scope (the command line) is the rule's alone, for the school named.
    operator = document_scope(None, K.TRUST_REVIEW_PACK)
    assert operator.schools is None and not operator.identified and operator.suppress
    assert document_sections(None, K.PARENT) == DOCUMENT_RULES[K.PARENT].sections


class _Listener:
    """A local HTTP port that records whether anything connected to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


def test_a_document_fetches_nothing_from_outside_itself(tmp_path: Path) -> None:
    """What a template or a user's text holds cannot make the renderer read a file or
    reach the network: only inline (data:) resources are read."""
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    listener = _Listener()
    try:
        html = (
            '<html lang="en-GB"><head><title>t</title>'
            f'<link rel="stylesheet" href="http://127.0.0.1:{listener.port}/x.css">'
            f"<style>@import url(http://127.0.0.1:{listener.port}/y.css);</style></head><body>"
            f'<h1>Heading</h1><img src="http://127.0.0.1:{listener.port}/a.png" alt="remote">'
            f'<img src="file://{secret}" alt="local file">'
            f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}" alt="inline">'
            "<p>Text</p></body></html>"
        )
        pdf, pages = render_pdf(html)
    finally:
        listener.close()
    assert listener.connections == 0
    assert pages == 1 and pdf.startswith(b"%PDF")
    # The inline image is drawn; the local file is not: as many images as a page with the
    # inline one alone.
    inline = base64.b64encode(PNG).decode()
    inline_only, _ = render_pdf(
        f'<html lang="en-GB"><body><img src="data:image/png;base64,{inline}" alt="i"></body></html>'
    )
    assert pdf.count(b"/Subtype /Image") == inline_only.count(b"/Subtype /Image") > 0


def _heading(con: duckdb.DuckDBPyConnection, urn: str) -> Heading:
    return Heading(
        "Report for parents and carers", "A pupil", letterhead(con, urn), "a test", date.today()
    )


def test_every_acronym_a_document_holds_is_explained_inside_it(
    doc_con: duckdb.DuckDBPyConnection,
) -> None:
    urn = str(doc_con.execute("SELECT min(school_urn) FROM core.dim_school").fetchone()[0])  # type: ignore[index]
    from empowered.documents import render as r

    body = "<h2>Plan</h2><p>Her EHC plan, agreed with the SENCo. Her KS2 results.</p>"
    page = (
        r.environment()
        .from_string('{% extends "_document.html" %}{% block body %}' + body + "{% endblock %}")
        .render(h=_heading(doc_con, urn))
    )
    box = r.environment().get_template("_words.html").render(words=words_used(r.visible_text(page)))
    pdf, _ = render_pdf(page.replace(r.WORDS_MARK, box, 1))
    text = pdf_text(pdf)
    assert "Words used in this document" in text
    assert "An education, health and care plan" in text  # EHC
    assert "Key stage" in text  # KS2
    assert unexplained_acronyms(text) == set()
    # Without the box, the same text is caught.
    bare, _ = render_pdf(page)
    assert {"EHC", "SENCo", "KS"} <= unexplained_acronyms(pdf_text(bare))
    assert_accessible(pdf)


def test_words_used_explains_the_words_inside_explanations() -> None:
    terms = [t for t, _ in words_used("The SENCo")]
    # "SENCo" is explained with "SEN support", which names SEN: both are listed.
    assert "SENCo" in terms and "SEN" in terms
    assert words_used("Nothing to explain here") == []


def test_the_letterhead_carries_the_schools_name_contact_and_logo(
    doc_warehouse: Path, tmp_path: Path
) -> None:
    path = tmp_path / "w.duckdb"
    shutil.copy(doc_warehouse, path)
    con = duckdb.connect(str(path))
    from empowered.access.store import ensure_access_tables

    ensure_access_tables(con)
    urn = str(con.execute("SELECT min(school_urn) FROM core.dim_school").fetchone()[0])  # type: ignore[index]
    before = letterhead(con, urn)
    assert before.school_name and before.contact is None and before.logo_data_uri is None
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    set_letterhead(con, urn, contact="The SEN office, 01234 567890", logo=logo)
    after = set_letterhead(con, urn, contact=None)  # what is not given is kept
    assert after.contact == "The SEN office, 01234 567890"
    assert after.logo_data_uri and after.logo_data_uri.startswith("data:image/png;base64,")
    with pytest.raises(LetterheadRefused, match="png, .jpg or .svg"):
        set_letterhead(con, urn, logo=tmp_path / "logo.gif")
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\0" * 600_000)
    with pytest.raises(LetterheadRefused, match="under 512 KB"):
        set_letterhead(con, urn, logo=big)
    with pytest.raises(LetterheadRefused, match="no school"):
        set_letterhead(con, "999999", contact="x")
    # The logo is drawn in a document, with the school's name as its alternative text.
    page = render_document("_document.html", _heading(con, urn), {})
    pdf, _ = render_pdf(page)
    assert b"/Subtype /Image" in pdf
    con.close()


def _document_links(html: str) -> set[str]:
    import re

    return set(re.findall(r'href="(/(?:pupils/[^"]+/documents|register/review-pack)[^"]*)"', html))


def test_each_page_offers_exactly_the_documents_its_user_may_make(
    doc_clients: dict[str, Any], doc_trust: DocTrust
) -> None:
    """What a page offers opens, and what it does not offer is refused: the links and the
    routes ask the same policy."""
    import html as html_lib

    pupil = f"/pupils/{doc_trust.pupil}"
    expected = {
        "senco": {"parent.pdf", "profile.pdf", "ehc-evidence.pdf", "ehc-evidence.xlsx"},
        "teacher": {"profile.pdf"},
        "teaching_assistant": {"profile.pdf"},
        "dsl": {"profile.pdf"},
        "trust_admin": {"profile.pdf"},
        "visiting_professional": set(),
    }
    every = {"parent.pdf", "profile.pdf", "ehc-evidence.pdf", "ehc-evidence.xlsx"}
    for role, wanted in expected.items():
        client = doc_clients[role]
        page = client.get(pupil)
        assert page.status_code == 200, role
        links = {html_lib.unescape(link) for link in _document_links(page.text)}
        assert {link.rsplit("/", 1)[-1] for link in links} == wanted, role
        for name in sorted(every):
            got = client.get(f"{pupil}/documents/{name}")
            assert (got.status_code == 200) == (name in wanted), (role, name, got.status_code)
    # The register page: the SENCo's own school's pack; every school's and the trust's for
    # the trust admin.
    senco = {
        html_lib.unescape(x) for x in _document_links(doc_clients["senco"].get("/register").text)
    }
    assert senco == {
        f"/register/review-pack.{fmt}?school={doc_trust.school}" for fmt in ("pdf", "xlsx")
    }
    admin = {
        html_lib.unescape(x)
        for x in _document_links(doc_clients["trust_admin"].get("/register").text)
    }
    assert f"/register/review-pack.pdf?school={doc_trust.other_school}" in admin
    assert "/register/review-pack.xlsx?trust=yes" in admin
    got = doc_clients["trust_admin"].get(
        f"/register/review-pack.pdf?school={doc_trust.other_school}"
    )
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    refused = doc_clients["senco"].get(f"/register/review-pack.pdf?school={doc_trust.other_school}")
    assert refused.status_code in (403, 404)
