"""The register page for an analyst, attacked by subtraction across its tables and through
its filters (issue 10, finding 5); and a SENCo's own register, exact.

The attacker is written from what a reader sees, not from the suppression code: the
tables of the page with their totals, the same figures in two tables ("pupils on the
register with Down syndrome" in the register question and in the list's table), and the
counts of a filtered page against the unfiltered one.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pytest

from empowered.analytics.disclosure import DisclosedTable
from empowered.views import PupilScope, queries
from empowered.views.register import RegisterFilters, RegisterPage, register_page

Figure = tuple[str, ...]


class Reader:
    """What one reader knows: shown figures by name, hidden ones with their true values
    (to check a derivation, and to know which are small), and sums that hold."""

    def __init__(self) -> None:
        self.known: dict[Figure, int] = {}
        self.hidden: dict[Figure, int] = {}
        self.sums: list[tuple[list[Figure], Figure]] = []

    def figure(self, name: Figure, value: int, hidden: bool) -> None:
        if hidden:
            self.hidden.setdefault(name, value)
        else:
            self.known[name] = value

    def table(self, prefix: str, t: DisclosedTable, rows: Iterable[str] | None = None) -> None:
        labels = list(rows) if rows is not None else list(t.row_labels)
        r, c = t.counts.shape
        for i in range(r):
            for j in range(c):
                self.figure(
                    (prefix, labels[i], t.column_labels[j]),
                    int(t.counts[i, j]),
                    bool(t.hidden[i, j]),
                )
            if t.show_totals:
                self.figure(
                    (prefix, labels[i], "Total"), int(t.row_totals[i]), bool(t.row_total_hidden[i])
                )
                self.sums.append(
                    (
                        [(prefix, labels[i], col) for col in t.column_labels],
                        (prefix, labels[i], "Total"),
                    )
                )
        if t.show_totals:
            for j in range(c):
                col = t.column_labels[j]
                self.figure(
                    (prefix, "Total", col), int(t.column_totals[j]), bool(t.column_total_hidden[j])
                )
                self.sums.append(
                    ([(prefix, label, col) for label in labels], (prefix, "Total", col))
                )
            self.figure((prefix, "Total", "Total"), t.grand_total, t.grand_total_hidden)
            self.sums.append(
                ([(prefix, label, "Total") for label in labels], (prefix, "Total", "Total"))
            )

    def same(self, a: Figure, b: Figure) -> None:
        """Two figures with the same meaning (equal wherever they are)."""
        self.sums.append(([a], b))

    def value(self, name: Figure) -> int:
        return self.known[name] if name in self.known else self.hidden[name]

    def attack(self) -> dict[Figure, int]:
        """Solve one unknown at a time until nothing more follows: the hidden figures
        recovered, with their values (checked against the truth)."""
        known = dict(self.known)
        recovered: dict[Figure, int] = {}
        changed = True
        while changed:
            changed = False
            for parts, total in self.sums:
                names = [*parts, total]
                if any(n not in known and n not in self.hidden for n in names):
                    continue
                unknown = {n for n in names if n not in known}
                if len(unknown) != 1:
                    continue
                (x,) = unknown
                if x == total:
                    value = sum(known[p] for p in parts)
                else:
                    value = known[total] - sum(known[p] for p in parts if p != x)
                assert value == self.value(x)
                known[x] = value
                recovered[x] = value
                changed = True
        return recovered

    def small_recovered(self) -> dict[Figure, int]:
        return {k: v for k, v in self.attack().items() if 0 < v < 5}


def need_names(built: duckdb.DuckDBPyConnection, scope: PupilScope) -> dict[str, str]:
    rows = queries.rows(
        built, "register_list", scope=scope, identified=False, on_register_only=True,
        need=None, broad_area=None, provision_code=None, year_group=None, pupil_premium=None,
        eal=None, attendance_below=None,
    )  # fmt: skip
    return {
        str(r["primary_need"]): str(r["primary_need_name"] or r["primary_need"])
        for r in rows
        if r["primary_need"]
    }


def reader_of(page: RegisterPage, names: dict[str, str], prefix: str = "") -> Reader:
    reader = Reader()
    add_page(reader, page, names, prefix)
    return reader


def add_page(reader: Reader, page: RegisterPage, names: dict[str, str], prefix: str = "") -> None:
    reader.table(prefix + "by need", page.by_need)
    for q in page.questions:
        np_table = q.need_provision.table if q.need_provision else None
        if np_table is not None:
            reader.table(prefix + "need vs provision", np_table)
            for code in np_table.row_labels:
                name = names.get(code)
                if name in page.by_need.row_labels:
                    a = (prefix + "by need", name, "Total")
                    b = (prefix + "need vs provision", code, "pupils on the register")
                    if reader.value(a) == reader.value(b):  # the same pupils
                        reader.same(a, b)
        national = q.national.table
        reader.table(prefix + "national", national)
        for label, column in (
            ("SEN support", "SEN support"),
            ("Education, health and care plan", "EHC plan"),
        ):
            if column in page.by_need.column_labels:
                a = (prefix + "by need", "Total", column)
                b = (prefix + "national", label, "pupils")
                if reader.value(a) == reader.value(b):
                    reader.same(a, b)


def test_the_analysts_page_gives_no_hidden_figure_away(
    built: duckdb.DuckDBPyConnection, analyst: PupilScope
) -> None:
    page = register_page(built, scope=analyst, filters=RegisterFilters())
    names = need_names(built, analyst)
    reader = reader_of(page, names)
    assert reader.hidden, "the trust's page has small figures to protect"
    assert reader.small_recovered() == {}


def test_a_filter_count_gives_no_hidden_row_away(
    built: duckdb.DuckDBPyConnection, analyst: PupilScope
) -> None:
    """ "need=HI: 5 pupils match" on a page where the HI row was hidden."""
    everyone = register_page(built, scope=analyst, filters=RegisterFilters())
    names = need_names(built, analyst)
    for code, name in names.items():
        if name not in everyone.by_need.row_labels:
            continue
        i = everyone.by_need.row_labels.index(name)
        one = register_page(built, scope=analyst, filters=RegisterFilters(need=code))
        assert one.by_need.grand_total == everyone.by_need.row_totals[i]
        assert one.by_need.grand_total_hidden == bool(everyone.by_need.row_total_hidden[i]), name
        if one.by_need.grand_total_hidden:
            assert str(one.by_need.grand_total) not in one.summary.split("(")[0]
        # Both pages to one reader: the filtered figures are the unfiltered row's.
        reader = reader_of(everyone, names)
        reader.table("filtered", one.by_need)
        for col in one.by_need.column_labels:
            reader.same(("filtered", name, col), ("by need", name, col))
        reader.same(("filtered", "Total", "Total"), ("by need", name, "Total"))
        assert reader.small_recovered() == {}, name


@pytest.mark.parametrize(
    "filters",
    [
        RegisterFilters(pupil_premium=True),
        RegisterFilters(eal=True),
        RegisterFilters(year_group="7"),
    ],
)
def test_a_filtered_page_beside_the_unfiltered_one_leaves_no_small_group(
    built: duckdb.DuckDBPyConnection, analyst: PupilScope, filters: RegisterFilters
) -> None:
    """The pupils a filter leaves out are the unfiltered count minus the filtered one:
    never a shown 1 to 4."""
    everyone = register_page(built, scope=analyst, filters=RegisterFilters())
    some = register_page(built, scope=analyst, filters=filters)
    a, b = everyone.by_need, some.by_need
    for i, name in enumerate(b.row_labels):
        if name not in a.row_labels:
            continue
        k = a.row_labels.index(name)
        pairs = [
            (a.hidden[k, j], a.counts[k, j], b.hidden[i, j], b.counts[i, j])
            for j in range(b.counts.shape[1])
        ]
        pairs.append(
            (a.row_total_hidden[k], a.row_totals[k], b.row_total_hidden[i], b.row_totals[i])
        )
        for hidden_a, all_n, hidden_b, some_n in pairs:
            if not hidden_a and not hidden_b:
                assert not 0 < int(all_n) - int(some_n) < 5, (name, all_n, some_n)
    if not a.grand_total_hidden and not b.grand_total_hidden:
        assert not 0 < a.grand_total - b.grand_total < 5


def test_a_senco_sees_their_own_pupils_counted_exactly(
    built: duckdb.DuckDBPyConnection, schools: list[str]
) -> None:
    """ "HI c" beside a list naming that one pupil only confuses: no suppression for staff
    who may open every pupil in the list."""
    page = register_page(built, scope=PupilScope.school(schools[0]), filters=RegisterFilters())
    assert not page.by_need.hidden.any() and not page.by_need.row_total_hidden.any()
    assert page.by_need.grand_total == len(page.pupils)
    small_rows = [int(n) for n in page.by_need.row_totals if 0 < n < 5]
    assert small_rows, "the school has small groups, shown as they are"


def test_a_document_that_leaves_the_school_is_suppressed_for_a_senco_too(
    built: duckdb.DuckDBPyConnection, schools: list[str]
) -> None:
    from dataclasses import replace

    shared = replace(PupilScope.school(schools[0]), identified=False, suppress=True)
    page = register_page(built, scope=shared, filters=RegisterFilters())
    assert page.pupils == ()
    assert page.by_need.hidden.any()
    names = need_names(built, shared)
    assert reader_of(page, names).small_recovered() == {}


def test_the_spreadsheet_carries_the_pages_suppressed_tables(
    built: duckdb.DuckDBPyConnection, analyst: PupilScope
) -> None:
    """The export is the page, suppressed with it: so the attacks above cover it too."""
    import io

    from python_calamine import CalamineWorkbook

    from empowered.views.register import register_xlsx

    page = register_page(built, scope=analyst, filters=RegisterFilters(year_group="7"))
    book = CalamineWorkbook.from_filelike(io.BytesIO(register_xlsx(page)))
    expected = {"By need": page.by_need}
    for q in page.questions:
        if q.need_provision is not None:
            expected[f"Need vs provision {q.school_urn or 'trust'}"[:31]] = q.need_provision.table
    for name, table in expected.items():
        rows = book.get_sheet_by_name(name).to_python()
        shown = [[str(c) for c in r] for r in rows[1 : 1 + len(table.rows())]]
        assert shown == [[str(v) for v in r.values()] for r in table.rows()], name


def test_a_filtered_page_that_cannot_be_protected_is_withheld_not_an_error() -> None:
    """If the published page gave a small figure away with the filtered one (here a
    published table with its cover figure shown), no suppression of the filtered tables
    can help: the request still answers, with the filtered figures withheld."""
    from dataclasses import replace

    import numpy as np

    from empowered.views.register_disclosure import page_specs, page_tables

    def pupils(need: str, sen: str, n: int, year: str) -> list[dict[str, object]]:
        row = {"primary_need": need, "primary_need_name": need, "sen_provision": sen}
        return [{**row, "provision_codes": "", "year_group": year}] * n

    everyone = [
        *pupils("ASD", "K", 20, "7"), *pupils("ASD", "E", 9, "8"),
        *pupils("DS", "K", 6, "7"), *pupils("DS", "E", 4, "8"),
    ]  # fmt: skip
    scope = PupilScope.trust_analyst()
    base = RegisterFilters()
    published = dict(page_tables(page_specs(scope, base, everyone, ())))
    table = published["by_need"]
    assert table.hidden.any(), "DS's 4 and its cover are hidden"
    shown = np.array(table.hidden)
    shown[table.hidden & ~table.primary] = False  # the cover figure, shown
    published["by_need"] = replace(table, hidden=shown)
    seven = RegisterFilters(year_group="7")
    rows = [r for r in everyone if r["year_group"] == "7"]
    specs = page_specs(scope, seven, rows, (), everyone=everyone, published=published)
    tables = page_tables(specs)
    assert tables["by_need"].withheld and tables["by_provision"].withheld
    assert tables["by_need"].hidden.all() and tables["by_need"].grand_total_hidden
