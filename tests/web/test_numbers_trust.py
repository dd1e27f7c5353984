"""Numbers staff can trust (issue 15, item 4): each figure a page shows adds up, says what
it counts, and never turns "nothing recorded" into "nothing unusual"."""

from __future__ import annotations

import re

import duckdb
from fastapi.testclient import TestClient
from web_fixtures import Trust


def _table_with_caption(page: str, caption: str) -> str:
    found = re.search(
        r"<table>\s*<caption>" + re.escape(caption) + r"</caption>.*?</table>", page, re.S
    )
    assert found, f"the page has a table captioned {caption!r}"
    return found.group(0)


def test_the_need_and_provision_table_does_not_add_a_subset_to_its_whole(
    clients: dict[str, TestClient],
) -> None:
    """Pupils with matching provision are some of the pupils on the register: a "Total"
    column adding the two counted each of them twice (a 92-pupil register totalled 138)."""
    page = clients["senco"].get("/register").text
    table = _table_with_caption(
        page, "Pupils on the register by primary need, and those with matching provision"
    )
    head = re.search(r"<thead>.*?</thead>", table, re.S)
    assert head and "Total" not in head.group(0)
    foot = re.search(r"<tfoot>(.*?)</tfoot>", table, re.S)
    assert foot, "the column totals (pupils on the register, pupils with provision) stay"
    cells = re.findall(r'<td class="num">([^<]*)</td>', foot.group(1))
    assert len(cells) == 2, cells


def test_the_provision_table_does_not_add_pupils_now_to_all_pupils(
    clients: dict[str, TestClient],
) -> None:
    """Pupils in provision now are some of the pupils who have had provision."""
    page = clients["senco"].get("/provision").text
    table = _table_with_caption(page, "Pupils receiving provision by area of need")
    head = re.search(r"<thead>.*?</thead>", table, re.S)
    assert head and "pupils now" in head.group(0) and "Total" not in head.group(0)


def test_a_pupil_with_no_check_ins_is_not_nothing_unusual(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """A child with no check-ins at all: the page said "Mood: not fired. Nothing unusual."
    No data is said as such, and no rule words ("fired") reach a staff page."""
    con = duckdb.connect(str(web_trust.path))
    row = con.execute(
        "select e.pupil_key from core.fct_enrolment as e where e.school_urn = ? and "
        "e.is_on_roll and not exists (select 1 from core.fct_observation as o "
        "where o.pupil_key = e.pupil_key) order by 1 limit 1",
        [web_trust.school],
    ).fetchone()
    con.close()
    assert row, "the small trust has a pupil with no check-ins"
    page = clients["senco"].get(f"/pupils/{row[0]}").text
    signs = re.search(r'<section id="signs".*?</section>', page, re.S)
    assert signs
    text = re.sub(r"<[^>]+>", "", signs.group(0))
    assert "fired" not in text
    assert "Mood: Nothing unusual" not in text and "Mood: No check-ins recorded" in text


def test_no_region_or_local_authority_column_until_their_figures_are_loaded(
    clients: dict[str, TestClient],
) -> None:
    """Nothing loaded (see test_register_areas for the page once a DfE file is): the
    comparison is with England alone, and no empty region or LA column is drawn."""
    page = clients["senco"].get("/register").text
    head = re.search(r'<thead><tr><th scope="col">Measure</th>.*?</thead>', page, re.S)
    assert head and "England" in head.group(0)
    assert "(region" not in page and "(local authority" not in page
