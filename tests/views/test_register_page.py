"""The register page: filters, counts, suppression for analysts and a safe XLSX export."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import duckdb
from python_calamine import CalamineWorkbook

from empowered.views import PupilScope, count_table
from empowered.views.register import (
    RegisterFilters,
    RegisterPage,
    RegisterRow,
    register_page,
    register_xlsx,
)


def test_filters_narrow_the_list_and_counts_match_it(
    built: duckdb.DuckDBPyConnection, schools: list[str]
) -> None:
    scope = PupilScope.school(schools[0])
    everyone = register_page(built, scope=scope, filters=RegisterFilters())
    assert everyone.pupils and all(p.school_urn == schools[0] for p in everyone.pupils)
    assert all(p.sen_provision in ("K", "E") for p in everyone.pupils)
    assert everyone.by_need.grand_total == len(everyone.pupils)
    need = everyone.pupils[0].primary_need
    low = register_page(
        built, scope=scope, filters=RegisterFilters(need=need, attendance_below=0.95)
    )
    assert all(
        p.primary_need == need and p.attendance_rate is not None and p.attendance_rate < 0.95
        for p in low.pupils
    )
    assert len(low.pupils) < len(everyone.pupils)
    pp = register_page(built, scope=scope, filters=RegisterFilters(pupil_premium=True))
    assert pp.pupils and all(p.pupil_premium for p in pp.pupils)
    assert all(p.name for p in everyone.pupils)  # identified staff see names
    questions = everyone.questions
    assert [q.school_urn for q in questions] == [schools[0]]
    assert questions[0].national.summary
    in_school = {
        p.pupil_key
        for p in register_page(
            built, scope=scope, filters=RegisterFilters(on_register_only=False)
        ).pupils
    }
    assert set(questions[0].attendance_without_plan.pupil_keys) <= in_school


def test_the_analyst_gets_suppressed_counts_and_no_list(
    built: duckdb.DuckDBPyConnection,
    analyst: PupilScope,
    disclosures: Callable[[Any], list[str]],
) -> None:
    page = register_page(built, scope=analyst, filters=RegisterFilters(attendance_below=0.95))
    assert page.pupils == ()
    assert [q.school_urn for q in page.questions] == [None]
    assert page.questions[0].attendance_without_plan.table is not None
    # The analytics keep pupil keys for roles allowed them; the page must not pass them on
    # to an analyst, so the walker fails on any key anywhere.
    assert disclosures(page) == []


def test_xlsx_opens_and_neutralises_formula_like_text() -> None:
    scope = PupilScope.school("100001")
    hostile = '=HYPERLINK("http://example.invalid","click")'
    page = RegisterPage(
        filters=RegisterFilters(need="@SUM(A1)"),
        questions=(),
        pupils=(
            RegisterRow(
                "P1",
                "100001",
                hostile,
                "5",
                "K",
                "ASD",
                "+cmd",
                True,
                False,
                0.91,
                True,
                False,
                ("elsa",),
            ),
        ),  # fmt: skip
        by_need=count_table(scope, [[7, 3]], row_labels=("-2+3",), column_labels=("K", "E")),
        by_provision=count_table(scope, [2], row_labels=("elsa",)),
        identified=True,
        summary="1 pupils match.",
    )
    book = CalamineWorkbook.from_filelike(io.BytesIO(register_xlsx(page)))
    assert {"Pupils", "By need", "By provision", "Questions"} <= set(book.sheet_names)
    pupils = book.get_sheet_by_name("Pupils").to_python()
    assert pupils[1][0] == "P1"
    assert pupils[1][2] == "'" + hostile
    assert pupils[1][6] == "'+cmd"  # after the year group in words and as a number
    need = book.get_sheet_by_name("By need").to_python()
    assert need[1][0] == "'-2+3"
    cells = [
        str(c)
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()
        for c in row
    ]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
