"""Every staff page in plain English: each acronym explained in the glossary, no Greek
letters or code words, one way of writing dates, schools by name (issue 15, item 7)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from staff_pages import crawl, visible_text
from web_fixtures import ROLES

from empowered.documents.acronyms import acronyms, explained

_GREEK = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]")
# lower_snake, UPPER_SNAKE and codes with an underscore anywhere (INT-LEGO_THE-251A); a
# file's name (strategy_uses.csv) is what staff see in their folder, so it may stay, and so
# may the settings and {placeholders} an administrator types (EMPOWERED_BACKUP_DIR).
_CODE_WORD = re.compile(
    r"(?<![\w.{-])(?!EMPOWERED_)[\w-]*[A-Za-z0-9]_[A-Za-z0-9][\w-]*\b(?!\.[a-z]{2,4}\b)"
)
_MONTH = "January|February|March|April|May|June|July|August|September|October|November|December"
_SHORT = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
# Dates written any other way than "6 July 2026" or "6 Jul" / "6 Jul 2026".
_OTHER_DATES = re.compile(
    rf"\b\d{{4}}-\d\d-\d\d\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b0\d (?:{_MONTH}|{_SHORT})\b"
    rf"|\b(?:{_MONTH}|{_SHORT}) \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b"
)
_SCHOOL_NUMBER = re.compile(r"\bschool \d{6,7}\b", re.IGNORECASE)
# A rule "fires" in the code; on a staff page a trigger is reached and an early sign stands out.
_JARGON = re.compile(r"\b(?:fired|fires|firing)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def role_pages(clients: dict[str, TestClient]) -> dict[str, list[tuple[str, str]]]:
    return {role: list(crawl(clients[role])) for role in ROLES}


def _offences(role_pages: dict[str, list[tuple[str, str]]], find: object) -> list[str]:
    out: list[str] = []
    for role, found in role_pages.items():
        for path, text in found:
            bad = sorted(find(text))  # type: ignore[operator]
            if bad:
                out.append(f"{role} {path}: {', '.join(bad[:8])}")
    return out


def test_the_crawl_reaches_each_roles_pages(role_pages: dict[str, list[tuple[str, str]]]) -> None:
    paths = {role: {p.split("?")[0] for p, _ in found} for role, found in role_pages.items()}
    assert {"/", "/register", "/glossary"} <= paths["senco"]
    assert any(p.startswith("/pupils/") for p in paths["senco"]), paths["senco"]
    assert "/concerns" in paths["dsl"]


def test_every_acronym_on_a_staff_page_is_in_the_glossary(
    role_pages: dict[str, list[tuple[str, str]]],
) -> None:
    known = explained()
    bad = _offences(role_pages, lambda t: acronyms(t) - known)
    assert not bad, "\n".join(bad)


def test_no_greek_letters_or_code_words_on_staff_pages(
    role_pages: dict[str, list[tuple[str, str]]],
) -> None:
    bad = _offences(
        role_pages,
        lambda t: set(_GREEK.findall(t)) | set(_CODE_WORD.findall(t)) | set(_JARGON.findall(t)),
    )
    assert not bad, "\n".join(bad)


def test_dates_are_written_one_way(role_pages: dict[str, list[tuple[str, str]]]) -> None:
    bad = _offences(role_pages, lambda t: set(_OTHER_DATES.findall(t)))
    assert not bad, "\n".join(bad)


def test_schools_are_named_not_numbered(role_pages: dict[str, list[tuple[str, str]]]) -> None:
    bad = _offences(role_pages, lambda t: set(_SCHOOL_NUMBER.findall(t)))
    assert not bad, "\n".join(bad)


def test_the_checks_catch_what_they_look_for() -> None:
    text, _ = visible_text(
        "<p>K/E and NSA/OTH, EHC and SENCo, 2026-07-06, (absence_with_mood_decline) λ "
        "school 803391<script>var XYZ_ABC = 1;</script><input type=hidden value=ZZZ_Q></p>"
    )
    assert {"K/E", "NSA", "OTH", "EHC", "SENCo"} <= acronyms(text)
    assert "XYZ" not in text and "ZZZ" not in text
    assert _GREEK.search(text) and _CODE_WORD.search(text)
    assert _OTHER_DATES.search(text) and _SCHOOL_NUMBER.search(text)
    assert _JARGON.search("latest: 62 sessions; fired in 8 school weeks")
    assert not acronyms("Maisie McKenzie went home on Monday")
    assert not _OTHER_DATES.search("6 July 2026, 6 Jul, Monday 6 July 2026")


def test_sen_status_is_written_in_words(clients: dict[str, TestClient]) -> None:
    """The census letters K and E are not what a SENCo reads in the register's rows."""
    html = clients["senco"].get("/register").text
    body = html.split("<tbody>")[-1]
    cells = re.findall(r"<td>([^<]*)</td>", body)
    assert cells and not {"K", "E", "N"} & {c.strip() for c in cells}
    assert "SEN support" in body or "EHC plan" in body
