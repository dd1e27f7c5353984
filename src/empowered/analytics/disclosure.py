"""Disclosure control: the ONE place every figure covering more than one pupil passes through.

The rule (ANALYTICS.md section 5, after the DfE "Statistics: disclosure control" guidance
and the ONS "Disclosure control guidance for tables produced from administrative sources"):

- a count of 1 to 4 pupils is never shown (primary suppression);
- enough further figures are hidden that no hidden one can be worked out from the others
  and the totals (secondary suppression);
- percentages are computed from the true, unrounded counts, and only where both the count
  and its base are shown;
- pseudonymised pupil-level extracts are k-anonymous (k >= 5) on their quasi-identifiers.

A single child's own record is protected by access control, not by this module.

Choices made here, and why:

- **Zeros are shown.** Both the DfE and the ONS guidance treat a zero as not, by itself,
  identifying anyone, and suppressing zeros hides real information (a provision nobody
  receives). The ONS guidance warns that a zero can still reveal something about a whole
  group (if every pupil in a row falls in one column, each of them has that attribute);
  that "group disclosure" is not handled here, so choose breakdowns where it does not
  matter, or merge categories first.
- **One symbol for both kinds of hidden figure.** Primary and secondary cells are shown
  the same way ("c" by default, the GSS symbol for confidential used by DfE and ONS
  tables), explained by the legend "fewer than 5 or hidden to protect a small group". If
  secondary cells looked different, a reader would learn they are 5 or more, which can
  narrow a primary cell beside them. ``HIDDEN_TEXT`` and ``SECONDARY_TEXT`` remain for
  prose and for callers that knowingly want to tell them apart.
- **Derivation is blocked for any combination of lines, not only one.** The brief's
  rule (a line with one hidden figure and a shown total gets a second) stops a single
  subtraction; a hidden figure can still be the sum and difference of several rows and
  columns. Seen as a graph (rows and columns are nodes, unknown figures are edges) a
  hidden figure is derivable exactly when it is a bridge, so bridges are closed too.
  Bounds from "counts are never negative" can still narrow a hidden figure to a range;
  figures in a line whose shown total is 0 are known to be 0 and are never used as
  cover.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "GENERALISATION_ORDER",
    "HIDDEN_TEXT",
    "LEGEND_TEXT",
    "SECONDARY_TEXT",
    "SYMBOL",
    "THRESHOLD",
    "TOTAL_LABEL",
    "DisclosedTable",
    "PageNotProtected",
    "enforce_k_anonymity",
    "is_disclosive",
    "k_anonymity_violations",
    "suppress",
    "suppress_series",
    "withhold_page",
]

THRESHOLD = 5
HIDDEN_TEXT = "fewer than 5"
SECONDARY_TEXT = "hidden"
# The default shown in place of any hidden figure, in pages and exports alike.
SYMBOL = "c"
LEGEND_TEXT = "fewer than 5 or hidden to protect a small group"
TOTAL_LABEL = "Total"
_LABEL_KEY = "label"

# Quasi-identifiers blanked first to last: the ones least useful for SEN questions go
# first, so year group and need (what staff ask about) survive longest. Names follow the
# warehouse columns (core.dim_pupil, dim_characteristics_history, dim_sen_status_history).
GENERALISATION_ORDER: tuple[str, ...] = (
    "ethnicity",
    "ethnicity_group",
    "first_language",
    "is_eal",
    "sex",
    "gender",
    "setting",
    "secondary_need",
    "sen_provision",
    "primary_need",
    "year_group",
)

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
_Pos = tuple[int, int]


def is_disclosive(n: int, threshold: int = THRESHOLD) -> bool:
    """Whether a count of ``n`` pupils must not be shown: 1 <= n < threshold.

    Zero is not disclosive (DfE "Statistics: disclosure control"; ONS "Disclosure control
    guidance for tables produced from administrative sources"): it names nobody. Rule from
    ANALYTICS.md section 5.
    """
    if n < 0:
        raise ValueError("a count of pupils cannot be negative")
    return 0 < n < threshold


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@dataclass(frozen=True, eq=False)
class DisclosedTable:
    """A table of counts after disclosure control (ANALYTICS.md section 5).

    ``counts`` and the totals are the true figures, kept so percentages can be computed
    server-side from unrounded numbers; never show them directly: use ``display*``,
    ``percent_of_*`` and ``rows()``, which respect the hidden flags. ``primary`` marks
    figures hidden because they cover fewer than ``threshold`` pupils; the rest of
    ``hidden`` is secondary suppression. When ``show_totals`` is false the totals are not
    published: their hidden flags are all true and ``display_*_total`` refuse.
    """

    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    counts: IntArray
    hidden: BoolArray
    primary: BoolArray
    row_totals: IntArray
    row_total_hidden: BoolArray
    row_total_primary: BoolArray
    column_totals: IntArray
    column_total_hidden: BoolArray
    column_total_primary: BoolArray
    grand_total: int
    grand_total_hidden: bool
    grand_total_primary: bool
    summary: str
    threshold: int = THRESHOLD
    show_totals: bool = True
    hidden_text: str = SYMBOL
    secondary_text: str = SYMBOL
    unit: str = "pupils"
    # Every figure hidden because no smaller suppression could protect the page it is on
    # (``suppress_page``): the page says its figures are withheld for that selection.
    withheld: bool = False
    # False when the columns overlap (a column is a subset of another: "on the register" and
    # "with matching provision"), so adding across a row would count a pupil twice and no
    # total column is printed. Totals still count in suppression, which only over-protects.
    adds_across: bool = True

    @property
    def secondary(self) -> BoolArray:
        """Cells hidden only so that the small ones cannot be worked out."""
        return self.hidden & ~self.primary

    @property
    def legend(self) -> str:
        """The sentence a page or export puts under the table to explain hidden figures."""
        if self.hidden_text == self.secondary_text:
            return (
                f'"{self.hidden_text}": fewer than {self.threshold} or hidden to protect '
                "a small group"
            )
        return (
            f'"{self.hidden_text}": fewer than {self.threshold}; "{self.secondary_text}": '
            "hidden so a small group cannot be worked out from the totals"
        )

    @property
    def shows_row_totals(self) -> bool:
        """Whether a total column is worth printing (one column would only repeat itself)."""
        return self.show_totals and self.adds_across and len(self.column_labels) > 1

    @property
    def shows_column_totals(self) -> bool:
        """Whether a total row is worth printing (one row would only repeat itself)."""
        return self.show_totals and len(self.row_labels) > 1

    def _text(self, value: int, hidden: bool, primary: bool) -> str:
        if not hidden:
            return str(value)
        return self.hidden_text if primary else self.secondary_text

    def _require_totals(self) -> None:
        if not self.show_totals:
            raise ValueError("this table's totals are not published")

    def display(self, i: int, j: int = 0) -> str:
        """The text to show for cell (i, j): the count, or the hidden symbol."""
        return self._text(int(self.counts[i, j]), bool(self.hidden[i, j]), bool(self.primary[i, j]))

    def display_row_total(self, i: int) -> str:
        """The text to show for row i's total."""
        self._require_totals()
        return self._text(
            int(self.row_totals[i]), bool(self.row_total_hidden[i]), bool(self.row_total_primary[i])
        )

    def display_column_total(self, j: int = 0) -> str:
        """The text to show for column j's total."""
        self._require_totals()
        return self._text(
            int(self.column_totals[j]),
            bool(self.column_total_hidden[j]),
            bool(self.column_total_primary[j]),
        )

    def display_grand_total(self) -> str:
        """The text to show for the table's total."""
        self._require_totals()
        return self._text(self.grand_total, self.grand_total_hidden, self.grand_total_primary)

    def percent_of_row(self, i: int, j: int = 0) -> float | None:
        """Cell (i, j) as a percentage of its row total, unrounded; None when the cell or the
        row total is hidden (or not published), or the row is empty: showing it would let a
        reader work the hidden figure back out."""
        if self.hidden[i, j] or self.row_total_hidden[i] or self.row_totals[i] == 0:
            return None
        return 100.0 * float(self.counts[i, j]) / float(self.row_totals[i])

    def percent_of_column(self, i: int, j: int = 0) -> float | None:
        """Cell (i, j) as a percentage of its column total (the share of a one-dimensional
        breakdown), unrounded; None under the same conditions as ``percent_of_row``."""
        if self.hidden[i, j] or self.column_total_hidden[j] or self.column_totals[j] == 0:
            return None
        return 100.0 * float(self.counts[i, j]) / float(self.column_totals[j])

    def rows(self) -> list[dict[str, str]]:
        """One dict per row for templates and CSV: ``label``, then one key per column label
        with its display text, then ``Total`` when a total column is printed; a last
        ``Total`` row when a total row is printed. Never contains a hidden count."""
        out: list[dict[str, str]] = []
        for i, label in enumerate(self.row_labels):
            row = {_LABEL_KEY: label}
            for j, column in enumerate(self.column_labels):
                row[column] = self.display(i, j)
            if self.shows_row_totals:
                row[TOTAL_LABEL] = self.display_row_total(i)
            out.append(row)
        if self.shows_column_totals:
            total = {_LABEL_KEY: TOTAL_LABEL}
            for j, column in enumerate(self.column_labels):
                total[column] = self.display_column_total(j)
            if self.shows_row_totals:
                total[TOTAL_LABEL] = self.display_grand_total()
            out.append(total)
        return out


def _as_counts(counts: ArrayLike) -> IntArray:
    array = np.asarray(counts)
    if array.size == 0:
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError("counts must be whole numbers of pupils")
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise ValueError("counts must be one- or two-dimensional")
    if (array < 0).any():
        raise ValueError("a count of pupils cannot be negative")
    return np.array(array, dtype=np.int64)


def _check_labels(row_labels: Sequence[str], column_labels: Sequence[str], shape: _Pos) -> None:
    if len(row_labels) != shape[0] or len(column_labels) != shape[1]:
        raise ValueError(
            f"{len(row_labels)} row labels and {len(column_labels)} column labels "
            f"do not fit counts of shape {shape}"
        )
    if shape[1] == 0:
        raise ValueError("a table needs at least one column")
    if len(set(row_labels)) != len(row_labels) or len(set(column_labels)) != len(column_labels):
        raise ValueError("row labels and column labels must each be distinct")
    reserved = {_LABEL_KEY, TOTAL_LABEL}.intersection(column_labels)
    if reserved:
        raise ValueError(f"column labels {sorted(reserved)} are reserved for rows()")


class _Suppressor:
    """Primary and secondary suppression over the table with its totals attached.

    The augmented table has the row totals as an extra last column and the column totals
    (and grand total) as an extra last row, so every "line" (a row or a column of it) is
    a set of figures whose body adds up to its last entry. ``hidden`` marks what must stay
    secret; ``unknown`` adds totals that are simply not published (they are unknown to a
    reader, so they help hide, but nothing is leaked if they could be worked out).
    """

    def __init__(
        self,
        counts: IntArray,
        threshold: int,
        show_totals: bool,
        forced: BoolArray | None = None,
        frozen: BoolArray | None = None,
    ) -> None:
        r, c = counts.shape
        self.r, self.c = r, c
        aug = np.zeros((r + 1, c + 1), dtype=np.int64)
        aug[:r, :c] = counts
        aug[:r, c] = counts.sum(axis=1)
        aug[r, :c] = counts.sum(axis=0)
        aug[r, c] = counts.sum()
        self.aug = aug
        self.unpublished = np.zeros(aug.shape, dtype=bool)
        if not show_totals:
            self.unpublished[r, :] = True
            self.unpublished[:, c] = True
        self.primary = (aug > 0) & (aug < threshold) & ~self.unpublished
        self.hidden = self.primary.copy()
        # A figure in a line whose shown total is 0 is known to be 0 (counts cannot be
        # negative): hiding it would protect nothing.
        zero_rows = (aug[:, c] == 0) & ~self.unpublished[:, c]
        zero_cols = (aug[r, :] == 0) & ~self.unpublished[r, :]
        self.known_zero = zero_rows[:, None] | zero_cols[None, :]
        # Page-level suppression (``suppress_page``): figures hidden because the same figure
        # is hidden in another table of the page, and figures the reader already knows from
        # elsewhere (so hiding them would cover nothing, and they are never picked).
        if forced is not None:
            self.hidden |= forced & ~self.unpublished
        self.frozen = np.zeros(aug.shape, dtype=bool) if frozen is None else frozen.copy()

    def unknown(self, pos: _Pos) -> bool:
        return bool(self.hidden[pos] or self.unpublished[pos])

    def lines(self) -> Iterable[tuple[list[_Pos], _Pos]]:
        """Every line as (body positions, total position): rows top to bottom, then
        columns left to right, so the result does not depend on anything but the input."""
        r, c = self.r, self.c
        for i in range(r + 1):
            yield [(i, j) for j in range(c)], (i, c)
        for j in range(c + 1):
            yield [(i, j) for i in range(r)], (r, j)

    def pick(self, candidates: Iterable[_Pos]) -> _Pos | None:
        """The cover figure: smallest shown non-zero, else smallest shown; ties by position."""
        usable = [
            p
            for p in candidates
            if not self.unknown(p) and not self.known_zero[p] and not self.frozen[p]
        ]
        nonzero = [p for p in usable if self.aug[p] > 0]
        pool = nonzero or usable
        return min(pool, key=lambda p: (int(self.aug[p]), p)) if pool else None

    def single_line_pass(self) -> bool:
        """Hide a second figure in every line where one secret figure would otherwise be its
        total minus the shown figures. Returns whether anything changed."""
        changed = False
        for body, total in self.lines():
            unknown = [p for p in [*body, total] if self.unknown(p)]
            if len(unknown) != 1 or not self.hidden[unknown[0]]:
                continue
            choice = self.pick(body)
            if choice is None:
                choice = self.pick([total])
            if choice is not None:
                self.hidden[choice] = True
                changed = True
        return changed

    def release_known_zeros(self) -> bool:
        """Show again hidden figures a reader knows are 0: in a line whose total is shown, if
        the hidden figures must add up to 0, each of them is 0 (counts are never negative),
        so they cover nothing. Returns whether anything changed."""
        changed = False
        for body, total in self.lines():
            if self.unknown(total):
                continue
            hidden = [p for p in body if self.hidden[p]]
            if hidden and all(self.aug[p] == 0 for p in hidden):
                for p in hidden:
                    self.hidden[p] = False
                    self.known_zero[p] = True
                changed = True
        return changed

    def _adjacency(self) -> dict[tuple[str, int], list[tuple[tuple[str, int], _Pos]]]:
        adjacency: dict[tuple[str, int], list[tuple[tuple[str, int], _Pos]]] = {}
        for i, j in zip(*np.nonzero(self.hidden | self.unpublished), strict=True):
            pos = (int(i), int(j))
            adjacency.setdefault(("r", pos[0]), []).append((("c", pos[1]), pos))
            adjacency.setdefault(("c", pos[1]), []).append((("r", pos[0]), pos))
        return adjacency

    @staticmethod
    def _reach(
        adjacency: dict[tuple[str, int], list[tuple[tuple[str, int], _Pos]]],
        start: tuple[str, int],
        skip: _Pos,
    ) -> set[tuple[str, int]]:
        seen = {start}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for other, pos in adjacency.get(node, []):
                if pos != skip and other not in seen:
                    seen.add(other)
                    queue.append(other)
        return seen

    def close_one_bridge(self) -> bool:
        """Find the first secret figure that some sum and difference of lines pins down (a
        bridge in the graph of unknown figures) and hide a figure that puts it on a cycle.
        Returns whether anything changed."""
        adjacency = self._adjacency()
        for i, j in zip(*np.nonzero(self.hidden), strict=True):
            pos = (int(i), int(j))
            side_p = self._reach(adjacency, ("r", pos[0]), pos)
            if ("c", pos[1]) in side_p:
                continue
            side_q = self._reach(adjacency, ("c", pos[1]), pos)
            rows_p = [n for kind, n in side_p if kind == "r"]
            cols_p = [n for kind, n in side_p if kind == "c"]
            rows_q = [n for kind, n in side_q if kind == "r"]
            cols_q = [n for kind, n in side_q if kind == "c"]
            crossing = [(a, b) for a in rows_p for b in cols_q]
            crossing += [(a, b) for a in rows_q for b in cols_p]
            choice = self.pick(crossing)
            if choice is None:
                # Only known zeros connect the two sides: widen the cover to the figure's
                # own lines, and failing that, anywhere.
                r, c = self.r, self.c
                choice = self.pick([(pos[0], b) for b in range(c + 1)])
                choice = choice or self.pick([(a, pos[1]) for a in range(r + 1)])
                choice = choice or self.pick((a, b) for a in range(r + 1) for b in range(c + 1))
            if choice is not None:
                self.hidden[choice] = True
                return True
        return False

    def run(self) -> None:
        # Each step hides one more figure or marks one more as a known zero (never to be
        # hidden again), so this ends.
        while True:
            while self.single_line_pass():
                pass
            if self.release_known_zeros():
                continue
            if not self.close_one_bridge():
                return


def _summary(primary: int, secondary: int, threshold: int, unit: str) -> str:
    if primary == 0 and secondary == 0:
        return (
            f"No figures are hidden: every figure covers either no {unit} or at least {threshold}."
        )
    verb = "is" if primary == 1 else "are"
    cover = "covers" if primary == 1 else "cover"
    text = (
        f"{_plural(primary, 'figure', 'figures')} {verb} hidden because "
        f"{'it' if primary == 1 else 'they'} {cover} fewer than {threshold} {unit}"
    )
    if secondary:
        text += f", and {secondary} more so the hidden ones cannot be worked out from the totals"
    return text + "."


def suppress(
    counts: ArrayLike,
    *,
    row_labels: Sequence[str],
    column_labels: Sequence[str] = ("pupils",),
    threshold: int = THRESHOLD,
    show_totals: bool = True,
    hidden_text: str = SYMBOL,
    secondary_text: str | None = None,
    unit: str = "pupils",
) -> DisclosedTable:
    """Apply disclosure control to a table of pupil counts (ANALYTICS.md section 5).

    ``counts`` is one-dimensional (one column) or two-dimensional (rows x columns).
    Primary: every count from 1 to ``threshold - 1``, totals included, is hidden; zeros
    are shown (DfE "Statistics: disclosure control"; ONS "Disclosure control guidance for
    tables produced from administrative sources"). Secondary, repeated until stable: in
    every row and column, the totals row and column included when totals are shown, a
    line whose only unknown figure is a hidden one gets a second figure hidden: the
    smallest shown non-zero figure of its body (ties: first by position), else the smallest
    shown figure, else its total. Then any hidden figure still pinned down by adding and
    subtracting several lines gets one more cover figure, and the loop repeats. Figures
    in a line whose shown total is 0 are never used as cover (they are known to be 0).

    With ``show_totals=False`` no total is published, so nothing can be subtracted and
    only primary suppression applies; use it only when the totals are not shown anywhere
    the same reader can see them.

    ``hidden_text`` is what replaces a hidden figure; ``secondary_text`` defaults to the
    same, so a reader cannot tell which hidden figures are small (see the module notes).
    """
    return _suppress(
        counts,
        row_labels=row_labels,
        column_labels=column_labels,
        threshold=threshold,
        show_totals=show_totals,
        hidden_text=hidden_text,
        secondary_text=secondary_text,
        unit=unit,
    )


def _suppress(
    counts: ArrayLike,
    *,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    threshold: int,
    show_totals: bool,
    hidden_text: str,
    secondary_text: str | None,
    unit: str,
    forced: BoolArray | None = None,
    known: BoolArray | None = None,
) -> DisclosedTable:
    if threshold < 1:
        raise ValueError("the threshold must be at least 1")
    table = _as_counts(counts)
    rows_n, cols_n = table.shape
    _check_labels(row_labels, column_labels, (rows_n, cols_n))

    engine = _Suppressor(table, threshold, show_totals, forced, known)
    engine.run()
    hidden = engine.hidden | engine.unpublished
    primary = engine.primary
    r, c = rows_n, cols_n

    shows_row_totals = show_totals and cols_n > 1
    shows_column_totals = show_totals and rows_n > 1
    shown = np.zeros(hidden.shape, dtype=bool)
    shown[:r, :c] = True
    shown[:r, c] = shows_row_totals
    shown[r, :c] = shows_column_totals
    shown[r, c] = shows_row_totals and shows_column_totals
    primary_count = int((primary & shown).sum())
    secondary_count = int((engine.hidden & ~primary & shown).sum())

    def frozen(array: NDArray[Any]) -> NDArray[Any]:
        copy = np.array(array)
        copy.flags.writeable = False
        return copy

    return DisclosedTable(
        row_labels=tuple(row_labels),
        column_labels=tuple(column_labels),
        counts=frozen(table),
        hidden=frozen(hidden[:r, :c]),
        primary=frozen(primary[:r, :c]),
        row_totals=frozen(engine.aug[:r, c]),
        row_total_hidden=frozen(hidden[:r, c]),
        row_total_primary=frozen(primary[:r, c]),
        column_totals=frozen(engine.aug[r, :c]),
        column_total_hidden=frozen(hidden[r, :c]),
        column_total_primary=frozen(primary[r, :c]),
        grand_total=int(engine.aug[r, c]),
        grand_total_hidden=bool(hidden[r, c]),
        grand_total_primary=bool(primary[r, c]),
        summary=_summary(primary_count, secondary_count, threshold, unit),
        threshold=threshold,
        show_totals=show_totals,
        hidden_text=hidden_text,
        secondary_text=hidden_text if secondary_text is None else secondary_text,
        unit=unit,
    )


def suppress_series(
    counts: Mapping[str, int],
    *,
    threshold: int = THRESHOLD,
    total: bool = True,
    column_label: str = "pupils",
    hidden_text: str = SYMBOL,
    secondary_text: str | None = None,
    unit: str = "pupils",
) -> DisclosedTable:
    """Disclosure control for a one-dimensional breakdown ("pupils by primary need"), in
    the mapping's order (ANALYTICS.md section 5; DfE "Statistics: disclosure control";
    ONS "Disclosure control guidance for tables produced from administrative sources").

    With ``total`` shown, one hidden small count would be the total minus the rest, so a
    second count (the smallest shown non-zero one) is always hidden with it.
    """
    return suppress(
        np.array(list(counts.values()), dtype=np.int64),
        row_labels=tuple(counts),
        column_labels=(column_label,),
        threshold=threshold,
        show_totals=total,
        hidden_text=hidden_text,
        secondary_text=secondary_text,
        unit=unit,
    )


def _key(row: Mapping[str, object], quasi_identifiers: Sequence[str]) -> tuple[object, ...]:
    return tuple(row.get(q) for q in quasi_identifiers)


def k_anonymity_violations(
    rows: Sequence[Mapping[str, object]],
    quasi_identifiers: Sequence[str],
    k: int = 5,
) -> list[tuple[tuple[object, ...], int]]:
    """The combinations of quasi-identifier values shared by fewer than ``k`` rows, with
    their sizes, in order of first appearance (ANALYTICS.md section 5: k >= 5 on year group,
    need type, setting, gender and ethnicity in any pseudonymised extract; ONS "Disclosure
    control guidance for tables produced from administrative sources"). A missing or blank
    value counts as its own value (None). An empty list means the extract is k-anonymous.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    sizes = Counter(_key(row, quasi_identifiers) for row in rows)
    return [(key, size) for key, size in sizes.items() if size < k]


def enforce_k_anonymity(
    rows: Sequence[Mapping[str, object]],
    quasi_identifiers: Sequence[str],
    k: int = 5,
    *,
    order: Sequence[str] | None = None,
) -> tuple[list[dict[str, object]], int]:
    """Blank (set to None) quasi-identifiers of rows in groups smaller than ``k``, one
    column at a time, least informative first, until every group has at least ``k`` rows
    or every column has been tried (ANALYTICS.md section 5; ONS "Disclosure control
    guidance for tables produced from administrative sources").

    The order is ``order`` if given, else the quasi-identifiers sorted by
    ``GENERALISATION_ORDER`` (ethnicity, then language, sex or gender, setting, need,
    provision, year group last), with any column it does not name blanked after those, in
    the order given. Only the rows of small groups are changed, and whole groups move
    together, so a group of ``k`` or more is never broken up. Returns new row dicts (the
    input is not modified) and how many rows had a value blanked.

    Rows can remain in a small group only with every quasi-identifier blanked (when fewer
    than ``k`` rows in all need it): check ``k_anonymity_violations`` on the result and
    drop those rows or withhold the extract.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    qis = list(quasi_identifiers)
    if order is None:
        rank = {name: n for n, name in enumerate(GENERALISATION_ORDER)}
        known = sorted((q for q in qis if q in rank), key=rank.__getitem__)
        sequence = known + [q for q in qis if q not in rank]
    else:
        missing = set(qis) - set(order)
        if missing or not set(order) <= set(qis):
            raise ValueError("order must list exactly the quasi-identifiers")
        sequence = list(order)

    out = [dict(row) for row in rows]
    changed: set[int] = set()
    for column in sequence:
        small = {key for key, _ in k_anonymity_violations(out, qis, k)}
        if not small:
            break
        for n, row in enumerate(out):
            if _key(row, qis) in small and row.get(column) is not None:
                row[column] = None
                changed.add(n)
    return out, len(changed)


# -- Suppressing a page's tables together ---------------------------------------------------
#
# Suppressing each table on its own is not enough when one page (or one spreadsheet) shows
# the same figure twice: "Down syndrome: c, c, total 10" in one table and "Down syndrome,
# SEN support: 6" in another give the hidden 4 by subtraction; a filtered count ("need HI:
# 5 pupils match") is a row total the unfiltered table hid. So every figure of a page carries
# a key saying WHICH pupils it counts (a frozenset of conditions such as ("need", "HI"),
# ("sen", "K")); figures with the same key are the same number wherever they appear. The
# page step (ONS "linked tables"):
#   1. suppress each table, with every figure whose key is hidden anywhere on the page
#      hidden here too (and figures the reader knows from elsewhere never used as cover);
#   2. repeat until no table changes;
#   3. audit the whole page as one linear system (each row and column of each table says
#      its figures add up to its total; a figure shown anywhere is known): a hidden small
#      figure is derivable exactly when its unit vector lies in the row space of the
#      equations over the unknown figures. If one is, hide one more figure beside it (or,
#      when every line through it is hidden already, beside the hidden figures those lines
#      reach) and go back to 1. Tables not rendered (the pupils a filter left out) show the
#      reader nothing: only their relations count.

Key = frozenset[tuple[str, str]]


def key_of(*parts: Mapping[str, str] | Key | None) -> Key:
    """Merge conditions into one key; a later condition on the same dimension replaces an
    earlier one (a table of registered pupils, ("sen", "K|E"), has a column ("sen", "K"))."""
    merged: dict[str, str] = {}
    for part in parts:
        if part is None:
            continue
        # A key (a frozenset) is tested for first: the Mapping test goes through the ABC
        # machinery, and a page's suppression search merges thousands of keys.
        items = (
            part
            if type(part) is frozenset
            else (part.items() if isinstance(part, Mapping) else part)
        )
        for dim, value in items:
            merged[str(dim)] = str(value)
    return frozenset(merged.items())


@dataclass(frozen=True)
class PageTable:
    """One table of a page for :func:`suppress_page`.

    Cell (i, j) counts the pupils of ``key_of(base, row_keys[i], column_keys[j])``; row
    total i of ``key_of(base, row_keys[i])``, column total j of ``key_of(base,
    column_keys[j])``, the grand total of ``base`` (each can be overridden when a total is
    not the count of a set of pupils, e.g. a sum over overlapping groups). ``fixed``: the
    table as already published elsewhere (another page the same reader opens): its hidden
    figures are taken as they are and its shown ones are known. ``rendered`` False: a table
    never shown but whose figures a reader could work out (the pupils a filter left out), so
    its small figures are protected and its relations used.
    """

    name: str
    counts: Any
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    row_keys: tuple[Key, ...]
    column_keys: tuple[Key, ...]
    base: Key = frozenset()
    show_totals: bool = True
    unit: str = "pupils"
    row_total_keys: tuple[Key, ...] | None = None
    column_total_keys: tuple[Key, ...] | None = None
    grand_key: Key | None = None
    fixed: DisclosedTable | None = None
    rendered: bool = True

    def keys(self) -> dict[_Pos, Key]:
        """The key of every figure of the table with its totals attached (augmented grid)."""
        r, c = len(self.row_keys), len(self.column_keys)
        out: dict[_Pos, Key] = {}
        for i in range(r):
            for j in range(c):
                out[(i, j)] = key_of(self.base, self.row_keys[i], self.column_keys[j])
            out[(i, c)] = (
                self.row_total_keys[i]
                if self.row_total_keys is not None
                else key_of(self.base, self.row_keys[i])
            )
        for j in range(c):
            out[(r, j)] = (
                self.column_total_keys[j]
                if self.column_total_keys is not None
                else key_of(self.base, self.column_keys[j])
            )
        out[(r, c)] = self.grand_key if self.grand_key is not None else self.base
        return out


def _hidden_grid(t: DisclosedTable) -> BoolArray:
    r, c = t.counts.shape
    grid = np.zeros((r + 1, c + 1), dtype=bool)
    grid[:r, :c] = t.hidden
    grid[:r, c] = t.row_total_hidden
    grid[r, :c] = t.column_total_hidden
    grid[r, c] = t.grand_total_hidden
    if not t.show_totals:
        grid[r, :] = True
        grid[:, c] = True
    return grid


def _value_grid(t: DisclosedTable) -> IntArray:
    r, c = t.counts.shape
    grid = np.zeros((r + 1, c + 1), dtype=np.int64)
    grid[:r, :c] = t.counts
    grid[:r, c] = t.row_totals
    grid[r, :c] = t.column_totals
    grid[r, c] = t.grand_total
    return grid


def _lines(r: int, c: int) -> Iterable[tuple[list[_Pos], _Pos]]:
    for i in range(r + 1):
        yield [(i, j) for j in range(c)], (i, c)
    for j in range(c + 1):
        yield [(i, j) for i in range(r)], (r, j)


def derivable_keys(
    tables: Sequence[PageTable], results: Mapping[str, DisclosedTable], threshold: int = THRESHOLD
) -> list[Key]:
    """The keys of hidden small figures (1 to threshold - 1) that the shown figures of the
    page pin down exactly through the tables' rows and columns (an auditor's check, also
    used by the tests that perform the subtraction attack)."""
    shown: set[Key] = set()
    hidden: set[Key] = set()
    small: set[Key] = set()
    for t in tables:
        res = results[t.name]
        grid, values = _hidden_grid(res), _value_grid(res)
        for pos, key in t.keys().items():
            # A table that is not rendered shows nothing: a reader knows its figures only
            # through its relations, or where the same figure is shown in another table.
            (hidden if grid[pos] or not t.rendered else shown).add(key)
            if 0 < int(values[pos]) < threshold:
                small.add(key)
    unknown = sorted(hidden - shown, key=sorted)
    if not unknown:
        return []
    index = {k: n for n, k in enumerate(unknown)}
    equations: list[NDArray[np.float64]] = []
    for t in tables:
        keys = t.keys()
        r, c = len(t.row_keys), len(t.column_keys)
        for body, total in _lines(r, c):
            row = np.zeros(len(unknown))
            for pos in body:
                if keys[pos] in index:
                    row[index[keys[pos]]] += 1.0
            if keys[total] in index:
                row[index[keys[total]]] -= 1.0
            if row.any():
                equations.append(row)
    targets = [k for k in unknown if k in small]
    if not equations:
        return []
    a = np.vstack(equations)
    # e_k is in the row space of A exactly when it is orthogonal to A's null space.
    _, sing, vt = np.linalg.svd(a)
    rank = int((sing > 1e-9 * max(1.0, float(sing.max(initial=0.0)))).sum())
    null = vt[rank:]
    return [k for k in targets if null.shape[0] == 0 or np.abs(null[:, index[k]]).max() < 1e-9]


def suppress_page(
    tables: Sequence[PageTable], *, threshold: int = THRESHOLD, hidden_text: str = SYMBOL
) -> dict[str, DisclosedTable]:
    """Suppress every table of one page (or one spreadsheet) together (see the notes above):
    no hidden small figure can be worked out from any combination of the page's tables,
    totals and counts. Returns each table, by name, as a :class:`DisclosedTable`.

    Raises :class:`PageNotProtected` only when no figure is left to hide that would protect
    a small one: then the tables given as ``fixed`` (published elsewhere) give it away, which
    cannot happen when they come from one ``suppress_page`` over the same tables. A caller
    that must still answer shows :func:`withhold_page` instead."""
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ValueError("table names on a page must be distinct")
    shapes = {t.name: (len(t.row_keys), len(t.column_keys)) for t in tables}
    forced = {
        t.name: np.zeros((r + 1, c + 1), dtype=bool) for t in tables for r, c in [shapes[t.name]]
    }
    # Figures already published elsewhere are known: never hidden as cover here.
    known: set[Key] = set()
    for t in tables:
        if t.fixed is not None:
            grid = _hidden_grid(t.fixed)
            known |= {k for pos, k in t.keys().items() if not grid[pos]}
    frozen = {}
    for t in tables:
        r, c = shapes[t.name]
        mask = np.zeros((r + 1, c + 1), dtype=bool)
        for pos, k in t.keys().items():
            mask[pos] = k in known
        frozen[t.name] = mask
    limit = 1 + sum((r + 1) * (c + 1) for r, c in shapes.values())
    for _ in range(limit):
        results: dict[str, DisclosedTable] = {}
        for t in tables:
            if t.fixed is not None:
                results[t.name] = t.fixed
                continue
            results[t.name] = _suppress_table(
                t, threshold, hidden_text, forced[t.name], known=frozen[t.name]
            )
        hidden_keys: set[Key] = set()
        for t in tables:
            grid = _hidden_grid(results[t.name])
            hidden_keys |= {k for pos, k in t.keys().items() if grid[pos]}
        changed = False
        for t in tables:
            if t.fixed is not None:
                continue
            grid = _hidden_grid(results[t.name])
            for pos, k in t.keys().items():
                if k in hidden_keys and not grid[pos] and not forced[t.name][pos]:
                    if not frozen[t.name][pos]:
                        forced[t.name][pos] = True
                        changed = True
        if changed:
            continue
        leaks = derivable_keys(tables, results, threshold)
        if not leaks:
            return results
        if not _cover(tables, results, leaks[0], forced, frozen):
            raise PageNotProtected("page suppression could not protect a small figure")
    raise PageNotProtected("page suppression did not settle")


def _suppress_table(
    t: PageTable,
    threshold: int,
    hidden_text: str,
    forced: BoolArray,
    *,
    known: BoolArray | None = None,
) -> DisclosedTable:
    """One page table suppressed with the page's settings and the cells ``forced`` hidden."""
    return _suppress(
        np.asarray(t.counts, dtype=np.int64).reshape((len(t.row_keys), len(t.column_keys))),
        row_labels=t.row_labels,
        column_labels=t.column_labels,
        threshold=threshold,
        show_totals=t.show_totals,
        hidden_text=hidden_text,
        secondary_text=None,
        unit=t.unit,
        forced=forced,
        known=known,
    )


class PageNotProtected(RuntimeError):
    """No suppression of the page's own tables protects a small figure (see
    :func:`suppress_page`)."""


def withhold_page(
    tables: Sequence[PageTable], *, threshold: int = THRESHOLD, hidden_text: str = SYMBOL
) -> dict[str, DisclosedTable]:
    """Every table of the page not already published (``fixed``), with every figure hidden
    and ``withheld`` set: the answer for a page :func:`suppress_page` cannot protect. The
    reader learns nothing from it that the published tables do not already say."""
    results: dict[str, DisclosedTable] = {}
    for t in tables:
        if t.fixed is not None:
            results[t.name] = t.fixed
            continue
        r, c = len(t.row_keys), len(t.column_keys)
        everything = np.ones((r + 1, c + 1), dtype=bool)
        table = _suppress_table(t, threshold, hidden_text, everything)
        results[t.name] = replace(
            table,
            withheld=True,
            summary=f"The figures are withheld: shown, they would let a small group of "
            f"{t.unit} be worked out.",
        )
    return results


def _cover(
    tables: Sequence[PageTable],
    results: Mapping[str, DisclosedTable],
    leak: Key,
    forced: dict[str, BoolArray],
    frozen: dict[str, BoolArray],
) -> bool:
    """Hide one more figure so that ``leak`` can no longer be worked out: the smallest
    figure shown on the page (non-zero first) and not known from elsewhere, in a line
    through it (ties by table order, then position). When every such line is hidden already
    (the figure follows from several tables together: "28 with SLD, 2 of them in year 6"
    through the pupils the filter left out), look one step further, in the lines through the
    hidden figures those lines hold, and so on. Returns False when nothing is left to hide."""
    shown = _shown_keys(tables, results)
    reached = {leak}
    while True:
        best: tuple[int, int, _Pos, str] | None = None
        grown = set(reached)
        for order, t in enumerate(tables):
            keys = t.keys()
            r, c = len(t.row_keys), len(t.column_keys)
            values = _value_grid(results[t.name])
            for body, total in _lines(r, c):
                line = [*body, total]
                if not any(keys[p] in reached for p in line):
                    continue
                grown |= {keys[p] for p in line if keys[p] not in shown}
                if t.fixed is not None:
                    continue
                for p in line:
                    if keys[p] not in shown or frozen[t.name][p] or forced[t.name][p]:
                        continue
                    value = int(values[p])
                    candidate = ((0 if value > 0 else 1) * 10**9 + value, order, p, t.name)
                    if best is None or candidate[:3] < best[:3]:
                        best = candidate
        if best is not None:
            forced[best[3]][best[2]] = True
            return True
        if grown == reached:
            return False
        reached = grown


def _shown_keys(tables: Sequence[PageTable], results: Mapping[str, DisclosedTable]) -> set[Key]:
    """The keys of the figures a reader of the page sees (in a rendered table, not hidden)."""
    shown: set[Key] = set()
    for t in tables:
        if t.rendered:
            grid = _hidden_grid(results[t.name])
            shown |= {k for pos, k in t.keys().items() if not grid[pos]}
    return shown
