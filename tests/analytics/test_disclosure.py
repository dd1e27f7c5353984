"""Disclosure control: small groups stay hidden and cannot be worked back out from totals."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import linprog

from empowered.analytics.disclosure import (
    HIDDEN_TEXT,
    SECONDARY_TEXT,
    SYMBOL,
    THRESHOLD,
    TOTAL_LABEL,
    DisclosedTable,
    enforce_k_anonymity,
    is_disclosive,
    k_anonymity_violations,
    suppress,
    suppress_series,
)

Pos = tuple[int, int]


# --- an independent audit, built only from what a reader of the table would see ----------


def augmented(table: DisclosedTable) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """The table with totals attached, and which of its figures a reader cannot see."""
    r, c = table.counts.shape
    values = np.zeros((r + 1, c + 1), dtype=np.int64)
    unknown = np.zeros((r + 1, c + 1), dtype=bool)
    values[:r, :c], unknown[:r, :c] = table.counts, table.hidden
    values[:r, c], unknown[:r, c] = table.row_totals, table.row_total_hidden
    values[r, :c], unknown[r, :c] = table.column_totals, table.column_total_hidden
    values[r, c], unknown[r, c] = table.grand_total, table.grand_total_hidden
    return values, unknown


def lines(r: int, c: int) -> list[tuple[list[Pos], Pos]]:
    rows = [([(i, j) for j in range(c)], (i, c)) for i in range(r + 1)]
    cols = [([(i, j) for i in range(r)], (r, j)) for j in range(c + 1)]
    return rows + cols


def secret_positions(table: DisclosedTable) -> list[Pos]:
    """Hidden figures that must not be recoverable (unpublished totals are not secret)."""
    _, unknown = augmented(table)
    r, c = table.counts.shape
    return [
        (int(i), int(j))
        for i, j in zip(*np.nonzero(unknown), strict=True)
        if table.show_totals or (i < r and j < c)
    ]


def single_subtraction_leaks(table: DisclosedTable) -> list[Pos]:
    """Secret figures that are one line's total minus its other, visible, figures."""
    _, unknown = augmented(table)
    secret = set(secret_positions(table))
    leaks = []
    for body, total in lines(*table.counts.shape):
        hidden = [p for p in [*body, total] if unknown[p]]
        if len(hidden) == 1 and hidden[0] in secret:
            leaks.append(hidden[0])
    return leaks


def equations(
    values: NDArray[np.int64], unknown: NDArray[np.bool_]
) -> tuple[list[Pos], NDArray[np.float64], NDArray[np.float64]]:
    """Every line's "body adds up to total" as A x = b over the unknown figures x."""
    r, c = values.shape[0] - 1, values.shape[1] - 1
    variables = [(int(i), int(j)) for i, j in zip(*np.nonzero(unknown), strict=True)]
    index = {p: k for k, p in enumerate(variables)}
    a_rows, b = [], []
    for body, total in lines(r, c):
        coeffs = np.zeros(len(variables))
        rhs = 0.0
        for p, sign in [*((q, 1.0) for q in body), (total, -1.0)]:
            if p in index:
                coeffs[index[p]] += sign
            else:
                rhs -= sign * float(values[p])
        a_rows.append(coeffs)
        b.append(rhs)
    return variables, np.array(a_rows), np.array(b)


def linear_leaks(
    values: NDArray[np.int64], unknown: NDArray[np.bool_], secret: list[Pos]
) -> list[Pos]:
    """Secret figures fixed by some sum and difference of lines: the unit vector of the figure
    lies in the row space of the equations."""
    variables, a, _ = equations(values, unknown)
    rank = np.linalg.matrix_rank(a) if variables else 0
    leaks = []
    for p in secret:
        unit = np.zeros(len(variables))
        unit[variables.index(p)] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            leaks.append(p)
    return leaks


def bounded_leaks(table: DisclosedTable) -> list[Pos]:
    """Secret figures pinned to one value by the lines plus "counts are never negative"."""
    values, unknown = augmented(table)
    variables, a, b = equations(values, unknown)
    leaks = []
    for p in secret_positions(table):
        unit = np.zeros(len(variables))
        unit[variables.index(p)] = 1.0
        low = linprog(unit, A_eq=a, b_eq=b, bounds=(0, None))
        high = linprog(-unit, A_eq=a, b_eq=b, bounds=(0, None))
        assert low.status == 0
        upper = math.inf if high.status == 3 else -high.fun
        if upper - low.fun < 0.5:
            leaks.append(p)
    return leaks


def labels(n: int, prefix: str) -> list[str]:
    return [f"{prefix}{k}" for k in range(n)]


def table_of(counts: list[list[int]], *, show_totals: bool = True) -> DisclosedTable:
    r, c = len(counts), len(counts[0])
    return suppress(
        counts, row_labels=labels(r, "r"), column_labels=labels(c, "c"), show_totals=show_totals
    )


# --- the rule on small, hand-checked tables -----------------------------------------------


def test_constants_follow_analytics_section_5() -> None:
    assert THRESHOLD == 5
    assert HIDDEN_TEXT == "fewer than 5"
    assert SECONDARY_TEXT == "hidden"
    assert SYMBOL == "c"


@pytest.mark.parametrize(("n", "expected"), [(0, False), (1, True), (4, True), (5, False)])
def test_is_disclosive_is_one_to_four(n: int, expected: bool) -> None:
    assert is_disclosive(n) is expected


def test_is_disclosive_refuses_negative_counts() -> None:
    with pytest.raises(ValueError, match="negative"):
        is_disclosive(-1)


def test_one_small_count_with_a_total_forces_a_second() -> None:
    table = suppress_series({"ASD": 10, "SLCN": 3, "SEMH": 20})
    # 3 is small; with the total shown it would be 33 - 10 - 20, so the smallest other
    # non-zero count (10) is hidden too, and the total stays.
    assert table.hidden[:, 0].tolist() == [True, True, False]
    assert table.primary[:, 0].tolist() == [False, True, False]
    assert table.display_column_total() == "33"
    assert single_subtraction_leaks(table) == []
    assert table.summary == (
        "1 figure is hidden because it covers fewer than 5 pupils, and 1 more so the hidden "
        "ones cannot be worked out from the totals."
    )


def test_without_a_total_a_small_count_hides_alone() -> None:
    table = suppress_series({"ASD": 10, "SLCN": 3, "SEMH": 20}, total=False)
    assert table.hidden[:, 0].tolist() == [False, True, False]
    with pytest.raises(ValueError, match="not published"):
        table.display_column_total()
    assert table.percent_of_column(0) is None  # a share would reveal the unpublished total


def test_zeros_are_shown_and_never_chosen_over_a_non_zero_cover() -> None:
    table = suppress_series({"a": 0, "b": 2, "c": 9, "d": 0, "e": 7})
    assert [table.display(i) for i in range(5)] == ["0", SYMBOL, "9", "0", SYMBOL]
    # 2 is primary; its cover is 7, the smallest non-zero shown count, not a zero.
    assert table.hidden[:, 0].tolist() == [False, True, False, False, True]


def test_ties_are_broken_by_position() -> None:
    first = suppress_series({"a": 3, "b": 8, "c": 8, "d": 20})
    assert first.hidden[:, 0].tolist() == [True, True, False, False]
    again = suppress_series({"a": 3, "b": 8, "c": 8, "d": 20})
    assert np.array_equal(first.hidden, again.hidden)


def test_a_small_total_is_hidden_like_any_small_count() -> None:
    table = table_of([[2, 1], [40, 30]])
    assert table.row_total_hidden[0] and table.row_total_primary[0]
    assert table.display_row_total(0) == SYMBOL
    # Each column's small count needs cover from the row below; the totals row stays.
    assert table.hidden.all()
    assert not table.column_total_hidden.any() and table.display_grand_total() == "73"
    assert table.percent_of_row(1, 0) is None
    assert single_subtraction_leaks(table) == []


def test_a_bridge_between_two_hidden_blocks_is_closed() -> None:
    # Two 2x2 blocks of small counts joined by one more small count: every row and column
    # has two hidden figures, yet rows 0 + 1 minus columns 0 + 1 isolate the joining count.
    counts = np.full((5, 5), 50)
    small = {(0, 0): 1, (0, 1): 2, (1, 0): 3, (1, 1): 4}
    small |= {(2, 2): 1, (2, 3): 2, (3, 2): 3, (3, 3): 4, (0, 2): 2}
    for pos, value in small.items():
        counts[pos] = value
    table = suppress(counts, row_labels=labels(5, "r"), column_labels=labels(5, "c"))

    values, _ = augmented(table)
    primary_only = np.zeros(values.shape, dtype=bool)
    primary_only[:5, :5] = table.primary
    assert linear_leaks(values, primary_only, list(small)) == [(0, 2)]  # the audit can fail

    assert single_subtraction_leaks(table) == []
    _, unknown = augmented(table)
    assert linear_leaks(values, unknown, secret_positions(table)) == []
    assert int(table.secondary.sum()) >= 1


def test_zeros_that_a_reader_can_pin_down_are_not_used_as_cover() -> None:
    # Hiding the two zeros of column 0 would protect nothing: its total minus the 12 shown
    # leaves 0 for them, and from there the rows would give the small counts away.
    table = table_of([[0, 0, 5], [0, 5, 0], [12, 5, 4]])
    assert not table.hidden[0, 0] and not table.hidden[1, 0]
    assert bounded_leaks(table) == []


def test_secondary_text_can_be_told_apart_when_asked() -> None:
    table = suppress_series({"a": 3, "b": 8, "c": 20}, secondary_text=SECONDARY_TEXT)
    assert [table.display(i) for i in range(3)] == [SYMBOL, SECONDARY_TEXT, "20"]
    assert SECONDARY_TEXT in table.legend
    plain = suppress_series({"a": 3, "b": 8, "c": 20}, hidden_text="x")
    assert [plain.display(i) for i in range(3)] == ["x", "x", "20"]
    assert "fewer than 5 or hidden to protect a small group" in plain.legend


def test_percentages_come_from_unrounded_counts() -> None:
    table = table_of([[10, 20], [7, 5]])
    assert table.percent_of_row(0, 0) == pytest.approx(100 / 3)
    assert table.percent_of_row(1, 0) == pytest.approx(700 / 12)
    assert table.percent_of_column(0, 1) == pytest.approx(100 * 20 / 25)
    total = sum(p for j in range(2) if (p := table.percent_of_row(0, j)) is not None)
    assert total == pytest.approx(100.0)


def test_percentages_of_hidden_figures_are_not_given() -> None:
    table = suppress_series({"a": 3, "b": 8, "c": 20})
    assert table.percent_of_column(0) is None
    assert table.percent_of_column(1) is None
    assert table.percent_of_column(2) == pytest.approx(100 * 20 / 31)


def test_rows_for_templates_and_csv() -> None:
    table = suppress(
        [[12, 3], [9, 30]],
        row_labels=["Year 5", "Year 6"],
        column_labels=["SEN support", "EHC plan"],
    )
    rows = table.rows()
    assert [r["label"] for r in rows] == ["Year 5", "Year 6", TOTAL_LABEL]
    assert set(rows[0]) == {"label", "SEN support", "EHC plan", TOTAL_LABEL}
    for i in range(2):
        for j, column in enumerate(table.column_labels):
            shown = rows[i][column]
            assert shown == (SYMBOL if table.hidden[i, j] else str(table.counts[i, j]))
    assert rows[2][TOTAL_LABEL] == table.display_grand_total()


def test_one_column_rows_have_no_repeated_total_column() -> None:
    rows = suppress_series({"a": 12, "b": 30}).rows()
    assert rows == [
        {"label": "a", "pupils": "12"},
        {"label": "b", "pupils": "30"},
        {"label": TOTAL_LABEL, "pupils": "42"},
    ]


def test_nothing_hidden_says_so() -> None:
    table = suppress_series({"a": 0, "b": 30})
    assert not table.hidden.any()
    assert table.summary.startswith("No figures are hidden")


def test_the_result_cannot_be_altered() -> None:
    table = suppress_series({"a": 3, "b": 8, "c": 20})
    with pytest.raises(ValueError):
        table.hidden[0, 0] = False


@pytest.mark.parametrize(
    ("counts", "rows", "cols", "message"),
    [
        ([1, -2], ["a", "b"], ["n"], "negative"),
        ([1.5, 2.0], ["a", "b"], ["n"], "whole numbers"),
        ([1, 2], ["a"], ["n"], "do not fit"),
        ([1, 2], ["a", "a"], ["n"], "distinct"),
        ([1, 2], ["a", "b"], [TOTAL_LABEL], "reserved"),
    ],
)
def test_bad_input_is_refused(
    counts: list[float], rows: list[str], cols: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        suppress(counts, row_labels=rows, column_labels=cols)


# --- properties over any table ------------------------------------------------------------

small_heavy = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 40])


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[list[int]], bool]:
    r = draw(st.integers(1, 6))
    c = draw(st.integers(1, 6))
    counts = draw(st.lists(st.lists(small_heavy, min_size=c, max_size=c), min_size=r, max_size=r))
    return counts, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(tables())
def test_properties_hold_for_any_table(case: tuple[list[list[int]], bool]) -> None:
    counts, show_totals = case
    table = table_of(counts, show_totals=show_totals)
    values, unknown = augmented(table)
    r, c = table.counts.shape

    # Primary figures are always hidden, totals included when published.
    small = (values >= 1) & (values < THRESHOLD)
    if not show_totals:
        small[r, :] = small[:, c] = False
    assert not (small & ~unknown).any()
    assert np.array_equal(table.primary, small[:r, :c])

    # What is visible is exactly the true count.
    for i in range(r):
        for j in range(c):
            if not table.hidden[i, j]:
                assert table.display(i, j) == str(counts[i][j])
            else:
                assert table.display(i, j) == SYMBOL

    # Nothing secret comes back by one subtraction, nor by any sum and difference of lines.
    assert single_subtraction_leaks(table) == []
    assert linear_leaks(values, unknown, secret_positions(table)) == []

    # Without published totals there is nothing to subtract from: only primary suppression.
    if not show_totals:
        assert np.array_equal(table.hidden, table.primary)

    # Same input, same result.
    again = table_of(counts, show_totals=show_totals)
    assert np.array_equal(augmented(again)[1], unknown)
    assert again.summary == table.summary


@settings(max_examples=60, deadline=None)
@given(tables())
def test_non_negativity_does_not_pin_a_hidden_figure(case: tuple[list[list[int]], bool]) -> None:
    counts, show_totals = case
    assert bounded_leaks(table_of(counts, show_totals=show_totals)) == []


@settings(max_examples=100, deadline=None)
@given(tables())
def test_summary_counts_what_is_hidden(case: tuple[list[list[int]], bool]) -> None:
    counts, _ = case
    table = table_of(counts)
    r, c = table.counts.shape
    primary = int(table.primary.sum())
    secondary = int(table.secondary.sum())
    if c > 1:
        primary += int(table.row_total_primary.sum())
        secondary += int((table.row_total_hidden & ~table.row_total_primary).sum())
    if r > 1:
        primary += int(table.column_total_primary.sum())
        secondary += int((table.column_total_hidden & ~table.column_total_primary).sum())
    if r > 1 and c > 1:
        primary += int(table.grand_total_primary)
        secondary += int(table.grand_total_hidden and not table.grand_total_primary)
    if primary:
        assert table.summary.startswith(f"{primary} figure")
    if secondary:
        assert f"and {secondary} more" in table.summary
    else:
        assert "more" not in table.summary


# --- k-anonymity of pseudonymised extracts ------------------------------------------------

QIS = ("year_group", "primary_need", "sex", "ethnicity")


def extract() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n in range(6):  # a group of six: safe as it is
        rows.append(
            {
                "id": f"p{n}",
                "year_group": "5",
                "primary_need": "ASD",
                "sex": "F",
                "ethnicity": "WBRI",
            }
        )
    for n, eth in enumerate(["WBRI", "WBRI", "AIND", "BCRB", "WBRI"]):  # five, split by ethnicity
        rows.append(
            {"id": f"q{n}", "year_group": "6", "primary_need": "SLCN", "sex": "M", "ethnicity": eth}
        )
    rows.append(
        {"id": "z0", "year_group": "3", "primary_need": "VI", "sex": "F", "ethnicity": "WBRI"}
    )
    return rows


def test_violations_list_small_groups_with_sizes() -> None:
    found = dict(k_anonymity_violations(extract(), QIS))
    assert found[("6", "SLCN", "M", "WBRI")] == 3
    assert found[("6", "SLCN", "M", "AIND")] == 1
    assert ("5", "ASD", "F", "WBRI") not in found
    assert k_anonymity_violations(extract(), QIS, k=1) == []


def test_missing_values_count_as_their_own_value() -> None:
    rows: list[dict[str, object]] = [{"year_group": "5"}, {"year_group": "5", "sex": None}]
    assert k_anonymity_violations(rows, ["year_group", "sex"], k=2) == []


def test_enforce_blanks_ethnicity_first_and_leaves_safe_groups_alone() -> None:
    original = extract()
    rows, changed = enforce_k_anonymity(original, QIS)
    assert original == extract()  # the input is not modified
    by_id = {row["id"]: row for row in rows}
    # The year-6 group becomes five rows of unknown ethnicity; their need survives.
    for n in range(5):
        assert by_id[f"q{n}"]["ethnicity"] is None
        assert by_id[f"q{n}"]["primary_need"] == "SLCN"
    for n in range(6):
        assert by_id[f"p{n}"] == extract()[n]
    # The lone pupil ends with every quasi-identifier blank, still a group of one: reported.
    assert [by_id["z0"][q] for q in QIS] == [None] * 4
    assert k_anonymity_violations(rows, QIS) == [((None, None, None, None), 1)]
    assert changed == 6


def test_enforce_follows_a_given_order() -> None:
    rows, _ = enforce_k_anonymity(
        extract()[:11], QIS, order=["year_group", "primary_need", "sex", "ethnicity"]
    )
    assert k_anonymity_violations(rows, QIS) == []
    by_id = {row["id"]: row for row in rows}
    assert all(by_id[f"q{n}"]["year_group"] is None for n in range(5))  # blanked first
    assert all(by_id[f"p{n}"] == extract()[n] for n in range(6))
    with pytest.raises(ValueError, match="exactly"):
        enforce_k_anonymity(extract(), QIS, order=["sex"])


qi_rows = st.lists(
    st.fixed_dictionaries(
        {q: st.sampled_from(["a", "b", "c", None]) for q in ("ethnicity", "sex", "year_group")}
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(qi_rows, st.integers(1, 6))
def test_enforce_properties(rows: list[dict[str, object]], k: int) -> None:
    qis = ["year_group", "sex", "ethnicity"]
    out, changed = enforce_k_anonymity(rows, qis, k)
    assert len(out) == len(rows)
    # Only blanking happens, and the count of changed rows is honest.
    differing = 0
    for before, after in zip(rows, out, strict=True):
        assert all(after[q] in (before[q], None) for q in qis)
        differing += before != after
    assert changed == differing
    # Rows of groups that were already big enough are untouched.
    sizes = Counter(tuple(row[q] for q in qis) for row in rows)
    for before, after in zip(rows, out, strict=True):
        if sizes[tuple(before[q] for q in qis)] >= k:
            assert before == after
    # Whatever is still small has nothing left to blank.
    for key, size in k_anonymity_violations(out, qis, k):
        assert key == (None, None, None) and size < k
