"""The register against the region and local authority once their DfE file is loaded, a
special school against special schools, and pupils by SEN status against England (issue 15,
item 5). The module's warehouse has the DfE-layout test files loaded before the app starts;
``test_numbers_trust`` checks the same page with nothing loaded."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, Trust, signed_in

from empowered.reference.loaded_figures import load_national_figures

FILES = Path(__file__).parents[1] / "reference" / "dfe_files"
SPECIAL_SENCO = "senco-of-the-special-school"


@pytest.fixture(scope="module")
def web_trust(web_trust: Trust, tmp_path_factory: pytest.TempPathFactory) -> Trust:
    """The trust's schools are in a made-up LA: the test file names it Enfield's way."""
    con = duckdb.connect(str(web_trust.path))
    row = con.execute(
        "select la_code from core.dim_school where school_urn = ?", [web_trust.school]
    )
    found = row.fetchone()
    assert found
    folder = tmp_path_factory.mktemp("dfe")
    sen = folder / "sen_phase_type.csv"
    sen.write_text((FILES / "sen_phase_type.csv").read_text().replace(",308,", f",{found[0]},"))
    load_national_figures(
        con,
        [sen, FILES / "absence_rates_by_pupil_characteristics_autumn.csv"],
        keep={"regional": "E12000007", "la": None},
    )
    # A SENCo of the special school, whose register answers for that school alone.
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user

    special = con.execute("select school_urn from core.dim_school where is_special_school")
    urn = special.fetchone()
    assert urn
    ensure_access_tables(con)
    add_user(con, SPECIAL_SENCO, PASSWORD, "senco", school_urn=str(urn[0]))
    con.close()
    return web_trust


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_register_compares_with_the_region_and_local_authority(
    clients: dict[str, TestClient],
) -> None:
    page = clients["senco"].get("/register").text
    head = re.search(r"<thead><tr><th scope=\"col\">Measure</th>.*?</thead>", page, re.S)
    assert head
    assert "London (region" in head.group(0) and "Enfield (local authority" in head.group(0)
    text = _text(page)
    # Each loaded figure says its census and source in words.
    assert re.search(
        r"London \(region[^)]*\): January 2025 census \(DfE, Special educational needs in "
        r"England, file sen_phase_type\.csv\)",
        text,
    )


def test_a_special_school_is_set_against_special_schools(
    app_and_users: tuple[object, dict[str, str]], clients: dict[str, TestClient]
) -> None:
    page = signed_in(app_and_users[0], SPECIAL_SENCO).get("/register").text
    text = _text(page)
    assert (
        "EHC plan" in text and "98.0% in special schools in England (January 2025 census)" in text
    )
    assert "London (region, special schools)" in text and "97.5%" in text
    assert "by SEN status, against England, special schools" in text
    # A mainstream school's page never shows the special schools' figure.
    assert "98.0%" not in _text(clients["senco"].get("/register").text)


def test_fsm_pupil_premium_eal_and_absence_by_sen_status_against_england(
    clients: dict[str, TestClient],
) -> None:
    page = clients["senco"].get("/register").text
    table = re.search(
        r"<caption>Pupils here by SEN status, against England</caption>.*?</table>", page, re.S
    )
    assert table
    rows = {
        tuple(_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)[:2]): _text(r)
        for r in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)
    }
    assert "12.9%" in rows[("Overall absence", "EHC plan")]
    assert "autumn term 2024/25" in rows[("Overall absence", "EHC plan")]
    assert "43.8%" in rows[("Eligible for free school meals", "EHC plan")]
    assert "No England figure by SEN status is loaded" in rows[("Pupil premium", "SEN support")]


def test_the_workbook_carries_the_areas_and_the_sen_status_comparison(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    import io

    from python_calamine import CalamineWorkbook

    body = clients["senco"].get("/register.xlsx").content
    book = CalamineWorkbook.from_filelike(io.BytesIO(body))
    status = book.get_sheet_by_name(f"By SEN status {web_trust.school}").to_python()
    assert status[0][:4] == ["measure", "SEN status", "here (%)", "England (%)"]
    assert ["Overall absence", "EHC plan"] == status[1][:2] and status[1][3] == 12.9
    questions = [r[1] for r in book.get_sheet_by_name("Questions").to_python()]
    assert any(str(q).startswith("Against London (region") for q in questions)
