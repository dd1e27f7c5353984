"""The register page and its spreadsheet as an analyst downloads them, attacked by
subtraction (issue 10, finding 5); a SENCo's own spreadsheet exact unless it is made to
leave the school."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

pytestmark = pytest.mark.slow
HIDDEN = "c"


def sheets(body: bytes) -> dict[str, list[list[object]]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(body))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def recovered_by_subtraction(table: list[list[object]]) -> list[tuple[str, int]]:
    """Within one sheet's table (label, columns..., Total; a last Total row): every hidden
    figure that is its line's only hidden one, with the value the subtraction gives."""
    header, *rows = [r for r in table if r and r[0] != "" and not str(r[0]).startswith('"')]
    body = [r for r in rows if len(r) == len(header)]
    found = []
    lines = [list(r[1:]) for r in body]
    lines += [[r[j] for r in body] for j in range(1, len(header))]
    for line in lines:
        *parts, total = line
        hidden = [p for p in parts if p == HIDDEN]
        if total != HIDDEN and len(hidden) == 1:
            value = int(float(total)) - sum(int(float(p)) for p in parts if p != HIDDEN)
            found.append((str(line), value))
    return [(where, v) for where, v in found if 0 < v < 5]


def test_a_trust_wide_spreadsheet_that_leaves_the_school_gives_nothing_away(
    clients: dict[str, TestClient],
) -> None:
    """The trust's whole register, as a copy to send out (the analyst has no export; the
    trust administrator's shared copy carries the same suppressed tables)."""
    response = clients["trust_admin"].get("/register.xlsx?share=yes")
    assert response.status_code == 200
    book = sheets(response.content)
    assert "Pupils" not in book
    hidden = 0
    for name, table in book.items():
        if name in ("By need", "By provision") or name.startswith("Need vs provision"):
            assert recovered_by_subtraction(table) == [], name
            hidden += sum(c == HIDDEN for r in table for c in r)
    assert hidden, "the trust's tables have small figures, hidden"


def test_a_senco_downloads_exact_counts_but_a_shared_copy_is_suppressed(
    clients: dict[str, TestClient],
) -> None:
    senco = clients["senco"]
    own = sheets(senco.get("/register.xlsx").content)
    assert "Pupils" in own
    cells = [c for r in own["By need"] for c in r[1:]]
    assert HIDDEN not in cells, "a SENCo's own list is counted exactly"
    listed = len(own["Pupils"]) - 1
    total = next(r for r in own["By need"] if r and r[0] == "Total")
    assert int(float(total[-1])) == listed, "the counts add up to the named list"
    shared = senco.get("/register.xlsx?share=yes")
    assert shared.status_code == 200
    book = sheets(shared.content)
    assert "Pupils" not in book, "a copy that leaves the school names nobody"
    for name, table in book.items():
        if name in ("By need", "By provision") or name.startswith("Need vs provision"):
            assert recovered_by_subtraction(table) == [], name
            values = [str(c) for r in table[1:] for c in r[1:]]
            assert not {"1", "2", "3", "4", "1.0", "2.0", "3.0", "4.0"} & set(values), name


def test_the_analysts_page_shows_no_small_count_and_no_filter_count_for_a_hidden_row(
    clients: dict[str, TestClient],
) -> None:
    analyst = clients["trust_analyst"]
    page = analyst.get("/register").text
    assert not re.search(r'<td class="num">[1-4]</td>', page)
    for need in sorted(set(re.findall(r'<th scope="row">([^<]+)</th>', page)))[:6]:
        filtered = analyst.get("/register", params={"need": need}).text
        summary = re.search(r"<p>([^<]*match[^<]*)</p>", filtered)
        assert summary
        assert not re.match(r"[1-4] pupils match", summary.group(1))
