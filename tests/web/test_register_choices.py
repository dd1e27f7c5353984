"""The register's filters as staff use them (issue 15, item 3): "the need filter is free
text and case-sensitive, 'Reception' finds nothing, Reception sorts after Year 6". The
need is chosen in words (a broad area or a type of need), whatever the case it arrives
in; a year group is chosen or typed as staff say it; the list runs in school order."""

from __future__ import annotations

import io
import re

import pytest
import python_calamine
from fastapi.testclient import TestClient

from empowered.views.school_words import year_code, year_order

pytestmark = pytest.mark.slow

_ROW = re.compile(
    r'<tr><td><a href="/pupils/([^"]+)">[^<]*</a></td>'
    r"<td>([^<]*)</td><td>[^<]*</td><td>([^<]*)</td>"
)


def _rows(client: TestClient, **params: str) -> list[tuple[str, str, str]]:
    """(pupil, year group, need) of every row of every page of the list."""
    rows: list[tuple[str, str, str]] = []
    page = 1
    while True:
        html = client.get("/register", params={**params, "page": str(page)}).text
        rows += _ROW.findall(html)
        if f"page={page + 1}" not in html:
            return rows
        page += 1


def test_the_need_filter_is_a_choice_in_words(clients: dict[str, TestClient]) -> None:
    html = clients["senco"].get("/register").text
    need = re.search(r'<select id="need" name="need">(.*?)</select>', html, re.S)
    assert need, "the need filter is a select, not a box to type a code in"
    assert '<optgroup label="Broad areas of need">' in need.group(1)
    for words in ("Communication and interaction", "Autistic spectrum disorder"):
        assert f">{words}</option>" in need.group(1)
    assert 'id="need" name="need" value=' not in html


def test_the_need_filter_ignores_case_and_takes_a_broad_area(
    clients: dict[str, TestClient],
) -> None:
    admin = clients["trust_admin"]
    asd = _rows(admin, need="ASD")
    assert asd and {n for _, _, n in asd} == {"Autistic spectrum disorder"}
    assert _rows(admin, need="asd") == asd
    assert _rows(admin, need="autistic spectrum disorder") == asd
    area = _rows(admin, need="area-CI")
    assert {k for k, _, _ in asd} < {k for k, _, _ in area}
    assert {n for _, _, n in area} <= {
        "Autistic spectrum disorder",
        "Speech, language and communication needs",
    }
    chosen = admin.get("/register", params={"need": "area-ci"}).text
    assert '<option value="area-CI" selected>' in chosen
    assert "broad area Communication and interaction" in chosen


def test_reception_finds_reception_pupils_and_years_run_in_school_order(
    app_and_users: tuple[object, dict[str, str]], clients: dict[str, TestClient]
) -> None:
    admin = clients["trust_admin"]
    everyone = _rows(admin)
    reception = [r for r in everyone if r[1] == "Reception"]
    assert reception, "the small trust has pupils in Reception on its register"
    for typed in ("Reception", "reception", "R", "Year R"):
        assert _rows(admin, year=typed) == reception, typed
    assert _rows(admin, year="Year 3") == _rows(admin, year="3")
    html = admin.get("/register", params={"year": "Reception"}).text
    assert '<option value="R" selected>Reception</option>' in html
    years = re.search(r'<select id="year" name="year">(.*?)</select>', html, re.S)
    assert years and years.group(1).index(">Reception<") < years.group(1).index(">Year 1<")
    assert years.group(1).index(">Year 2<") < years.group(1).index(">Year 10<")
    # Within each school the list runs Nursery, Reception, Year 1 ... (not R after 6, nor
    # 10 before 2).
    warehouse = app_and_users[0].state.warehouse  # type: ignore[attr-defined]
    with warehouse.reading() as con:
        school = dict(
            con.execute("SELECT pupil_key, school_urn FROM marts.register_pupil").fetchall()
        )
    by_school: dict[str, list[int]] = {}
    for key, year, _ in everyone:
        by_school.setdefault(school[key], []).append(year_order(year_code(year)))
    assert any(len(set(years)) > 2 for years in by_school.values())
    for urn, years in by_school.items():
        assert years == sorted(years), urn


@pytest.mark.parametrize("params", [{"need": "area-SP"}, {"need": "area-CL", "year": "R"}])
def test_a_broad_area_filter_keeps_the_analysts_small_figures_hidden(
    clients: dict[str, TestClient], params: dict[str, str]
) -> None:
    response = clients["trust_analyst"].get("/register", params=params)
    assert response.status_code == 200
    assert not re.search(r'<td class="num">[1-4]</td>', response.text)
    summary = re.search(r"<h1>SEND register</h1>\s*<p>([^<]*)</p>", response.text)
    assert summary and not re.match(r"[1-4] pupils match", summary.group(1))


def test_the_year_column_says_reception_and_year_3_not_r_and_3(
    clients: dict[str, TestClient],
) -> None:
    years = {year for _, year, _ in _rows(clients["trust_admin"])}
    assert {"Reception", "Year 3"} <= years, years
    assert not years & {"R", "3", "N1", "N2"}, years
    assert all(y.startswith(("Year ", "Nursery")) or y == "Reception" for y in years), years


def test_the_workbook_says_the_year_in_words_and_keeps_a_number_to_sort_by(
    clients: dict[str, TestClient],
) -> None:
    content = clients["trust_admin"].get("/register.xlsx").content
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    rows = book.get_sheet_by_name("Pupils").to_python()
    header, body = rows[0], rows[1:]
    words, number = header.index("year group"), header.index("year group (number)")
    pairs = {(r[words], r[number]) for r in body}
    assert ("Reception", 0) in pairs and ("Year 3", 3) in pairs, sorted(pairs)[:20]
    assert not {w for w, _ in pairs} & {"R", "3"}
    assert all(isinstance(n, (int, float)) for _, n in pairs), pairs
