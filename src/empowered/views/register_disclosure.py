"""The register page's tables suppressed together (issue 10, finding 5).

The page shows several tables about the same pupils: pupils by need and SEN status, pupils
by intervention, and per school the answers to the register questions (pupils by status
against national figures, pupils by need against matching provision, pupils with low
attendance and no plan). Suppressed one by one, a figure hidden in one table can be shown
in another, or follow from a filtered count ("need HI: 5 pupils match"). Here every figure
gets a key naming the pupils it counts (see ``analytics.disclosure.suppress_page``) and all
are suppressed at once, together with:

- the unfiltered page, which the same reader can open: with a filter on, the unfiltered
  tables are taken as already published (fixed), and
- the pupils the filter left out (never shown, but the unfiltered figure minus the
  filtered one), so "10 with Down syndrome, 7 of them in year 7" cannot reveal 3.

Only for scopes the policy suppresses (aggregate-only roles, documents that leave the
school); a SENCo looking at their own named pupils sees exact counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from empowered.analytics.disclosure import (
    DisclosedTable,
    Key,
    PageNotProtected,
    PageTable,
    key_of,
    suppress_page,
    withhold_page,
)
from empowered.analytics.register import comparison_sentence, national_summary
from empowered.views import PupilScope

if TYPE_CHECKING:
    from empowered.views.register import RegisterFilters, RegisterQuestions

SEN_LABELS = {"K": "SEN support", "E": "EHC plan", "N": "No SEN"}
REGISTERED = {"sen": "K|E"}
HIDDEN_PHRASE = "hidden to protect a small group"
Row = dict[str, Any]


def _codes(r: Row) -> list[str]:
    return [c for c in str(r["provision_codes"] or "").split(",") if c]


def _has(code: str) -> Key:
    # A pupil can have several interventions: one dimension per intervention, so "has A"
    # and "has B" combine into "has both".
    return key_of({f"has:{code}": "yes"})


def filter_key(filters: RegisterFilters) -> Key:
    """The conditions a filter adds to every figure of the filtered tables."""
    parts: dict[str, str] = {}
    if filters.need:
        parts["need"] = filters.need
    if filters.broad_area:
        parts["area"] = filters.broad_area
    if filters.year_group:
        parts["year"] = filters.year_group
    if filters.pupil_premium is not None:
        parts["pp"] = "yes" if filters.pupil_premium else "no"
    if filters.eal is not None:
        parts["eal"] = "yes" if filters.eal else "no"
    if filters.attendance_below is not None:
        parts["attendance_below"] = f"{filters.attendance_below:g}"
    key = key_of(parts)
    if filters.provision_code:
        key = key_of(key, _has(filters.provision_code))
    return key


class _Counts:
    """Pupils by need x SEN status and by intervention, from the register list's rows."""

    def __init__(self, rows: Sequence[Row], columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.cells: dict[str, list[int]] = defaultdict(lambda: [0] * len(columns))
        self.labels: dict[str, str] = {}
        self.codes: dict[str, int] = defaultdict(int)
        for r in rows:
            need = str(r["primary_need"] or "none")
            self.labels[need] = str(
                r["primary_need_name"] or r["primary_need"] or "no need recorded"
            )
            row = self.cells[need]  # the row exists even with no column to count in
            if r["sen_provision"] in columns:
                row[columns.index(str(r["sen_provision"]))] += 1
            for c in _codes(r):
                self.codes[c] += 1

    def needs(self) -> list[str]:
        return sorted(self.cells, key=lambda n: (self.labels.get(n, n), n))


def _labels(counts: _Counts, needs: Sequence[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for n in needs:
        label = counts.labels.get(n, n)
        if label in seen:
            label = f"{label} ({n})"
        seen.add(label)
        out.append(label)
    return tuple(out)


def _list_tables(counts: _Counts, base: Key, name: str) -> list[PageTable]:
    needs = counts.needs()
    sums = key_of(base, {"sum": "provision"})
    codes = sorted(counts.codes)
    return [
        PageTable(
            name=f"{name}by_need",
            counts=[counts.cells[n] for n in needs] or [[0] * len(counts.columns)],
            row_labels=_labels(counts, needs) or ("no pupils match",),
            column_labels=tuple(SEN_LABELS[c] for c in counts.columns),
            row_keys=tuple(key_of({"need": n}) for n in needs) or (key_of({"need": "-"}),),
            column_keys=tuple(key_of({"sen": c}) for c in counts.columns),
            base=base,
        ),
        PageTable(
            name=f"{name}by_provision",
            counts=[[counts.codes[c]] for c in codes] or [[0]],
            row_labels=tuple(codes) or ("none",),
            column_labels=("pupils",),
            row_keys=tuple(_has(c) for c in codes) or (_has("-"),),
            column_keys=(frozenset(),),
            base=base,
            # Pupils with several interventions count once per intervention: the total is
            # a count of places, not of pupils.
            column_total_keys=(sums,),
            grand_key=sums,
        ),
    ]


def _splits(
    matched: _Counts, everyone: _Counts, base: Key, wanted: Key, need: str | None
) -> list[PageTable]:
    """The filtered figures beside the ones the filter left out, totalling the unfiltered
    figures: what a reader can compute from the two pages, protected like a table."""
    rest = key_of({"rest": repr(sorted(wanted))})
    # With a need filter only that need's rows can match: the split covers those pupils.
    narrowed = base if need is None else key_of(base, {"need": need})
    columns = (wanted, rest)
    labels = ("matching", "not matching")
    needs = [n for n in everyone.needs() if need is None or n == need]
    cols = everyone.columns
    cells = [(n, j) for n in needs for j in range(len(cols))]

    def pair(m: int, total: int) -> list[int]:
        return [m, max(total - m, 0)]

    m_cells = matched.cells
    tables = [
        PageTable(
            name="split:cells",
            counts=[
                pair(m_cells[n][j] if n in m_cells else 0, everyone.cells[n][j]) for n, j in cells
            ]
            or [[0, 0]],
            row_labels=tuple(f"{n} {cols[j]}" for n, j in cells) or ("-",),
            column_labels=labels,
            row_keys=tuple(key_of({"need": n}, {"sen": cols[j]}) for n, j in cells)
            or (key_of({"need": "-"}),),
            column_keys=columns,
            base=narrowed,
            rendered=False,
        ),
        PageTable(
            name="split:needs",
            counts=[
                pair(sum(m_cells[n]) if n in m_cells else 0, sum(everyone.cells[n])) for n in needs
            ]
            or [[0, 0]],
            row_labels=tuple(needs) or ("-",),
            column_labels=labels,
            row_keys=tuple(key_of({"need": n}) for n in needs) or (key_of({"need": "-"}),),
            column_keys=columns,
            base=narrowed,
            rendered=False,
        ),
        PageTable(
            name="split:sen",
            counts=[
                pair(
                    sum(m_cells[n][j] for n in m_cells),
                    sum(everyone.cells[n][j] for n in needs),
                )
                for j in range(len(cols))
            ],
            row_labels=tuple(cols),
            column_labels=labels,
            row_keys=tuple(key_of({"sen": c}) for c in cols),
            column_keys=columns,
            base=narrowed,
            rendered=False,
        ),
    ]
    codes = sorted(everyone.codes)
    if codes:
        sums = key_of(base, {"sum": "provision"})
        tables.append(
            PageTable(
                name="split:provision",
                counts=[pair(matched.codes.get(c, 0), everyone.codes[c]) for c in codes],
                row_labels=tuple(codes),
                column_labels=labels,
                row_keys=tuple(_has(c) for c in codes),
                column_keys=columns,
                base=base,
                column_total_keys=(key_of(sums, wanted), key_of(sums, rest)),
                grand_key=sums,
                rendered=False,
            )
        )
    return tables


def _school(scope: PupilScope, urn: str | None) -> Key:
    # The question covers the same pupils as the list when it is about the whole scope.
    if urn is None or scope.single_school == urn:
        return frozenset()
    return key_of({"school": urn})


def _question_tables(scope: PupilScope, questions: Sequence[RegisterQuestions]) -> list[PageTable]:
    tables = []
    sen = {"SEN support": "K", "Education, health and care plan": "E"}
    for q in questions:
        at = _school(scope, q.school_urn)
        tag = q.school_urn or "trust"
        t = q.national.table
        rows = tuple(key_of({"sen": sen.get(label, "N")}) for label in t.row_labels)
        tables.append(_asked(f"national:{tag}", t, rows, (frozenset(),), at))
        if q.need_provision is not None:
            t = q.need_provision.table
            base = key_of(at, REGISTERED)
            rows = tuple(key_of({"need": n}) for n in t.row_labels)
            matched: tuple[Key, ...] = (frozenset(), key_of({"matched": "yes"}))
            # "On the register" plus "with matching provision" counts nobody.
            totals = tuple(key_of(base, {"need": n, "sum": "need_provision"}) for n in t.row_labels)
            table = _asked(f"need_provision:{tag}", t, rows, matched, base)
            tables.append(
                replace(
                    table,
                    row_total_keys=totals,
                    grand_key=key_of(base, {"sum": "need_provision"}),
                )
            )
        if q.attendance_without_plan is not None:
            t = q.attendance_without_plan.table
            rows = tuple(key_of({"year": y}) for y in t.row_labels)
            base = key_of(at, REGISTERED, {"attendance_without_plan": "yes"})
            tables.append(_asked(f"attendance_without_plan:{tag}", t, rows, (frozenset(),), base))
    return tables


def _asked(
    name: str, t: DisclosedTable, rows: tuple[Key, ...], columns: tuple[Key, ...], base: Key
) -> PageTable:
    """A question's table (already worked out) as one table of the page."""
    return PageTable(
        name=name,
        counts=t.counts,
        row_labels=t.row_labels,
        column_labels=t.column_labels,
        row_keys=rows,
        column_keys=columns,
        base=base,
    )


def page_tables(specs: Sequence[PageTable]) -> dict[str, DisclosedTable]:
    """Every table of the register page (:func:`page_specs`), suppressed together."""
    try:
        return suppress_page(specs)
    except PageNotProtected:
        # Only when the published page gives a figure away with this one: the filtered
        # figures are withheld (the page says so) rather than the request failing.
        return withhold_page(specs)


def page_specs(
    scope: PupilScope,
    filters: RegisterFilters,
    rows: Sequence[Row],
    questions: Sequence[RegisterQuestions],
    *,
    everyone: Sequence[Row] | None = None,
    published: Mapping[str, DisclosedTable] | None = None,
) -> list[PageTable]:
    """The tables :func:`page_tables` suppresses together (unfiltered page, filtered tables
    and what the filter left out), before suppression: what an auditor attacks. With a
    filter on, ``everyone`` holds the unfiltered list's rows and ``published`` the
    unfiltered page's tables as that page shows them (both None for the unfiltered page
    itself)."""
    columns = ("K", "E") if filters.on_register_only else ("K", "E", "N")
    base = key_of(REGISTERED) if filters.on_register_only else frozenset()
    counts = _Counts(rows, columns)
    asked = _question_tables(scope, questions)
    if everyone is None or published is None:
        return _list_tables(counts, base, "") + asked
    wanted = filter_key(filters)
    all_counts = _Counts(everyone, columns)
    fixed = [
        replace(t, fixed=published[t.name.removeprefix("all:")])
        for t in [*_list_tables(all_counts, base, "all:"), *asked]
    ]
    filtered = _list_tables(counts, key_of(base, wanted), "")
    return fixed + filtered + _splits(counts, all_counts, base, wanted, filters.need)


def sheet_title(prefix: str, urn: str | None) -> str:
    """A worksheet name (at most 31 characters, as Excel requires)."""
    return f"{prefix} {urn or 'trust'}"[:31]


def suppressed_question(
    q: RegisterQuestions, tables: Mapping[str, DisclosedTable]
) -> RegisterQuestions:
    """The question with its tables as suppressed with the rest of the page, and the
    sentences that quote them rewritten where a figure is now hidden."""
    tag = q.school_urn or "trust"
    national = tables[f"national:{tag}"]
    rows = []
    sentences = []
    for n, row in enumerate(q.national.rows):
        ours = None if national.hidden[n, 0] else row["ours"]
        rows.append({**row, "ours": ours})
        if ours is None:
            sentences.append(f"{row['measure']}: {HIDDEN_PHRASE}, so no percentage is shown")
        else:
            sentences.append(comparison_sentence(row, ours, q.national.compared_with))
    out = replace(
        q,
        national=replace(
            q.national,
            table=national,
            rows=tuple(rows),
            summary=national_summary(sentences, q.national.compared_with)
            if rows
            else q.national.summary,
        ),
    )
    if q.need_provision is not None:
        out = replace(
            out,
            need_provision=replace(
                q.need_provision,
                table=replace(
                    tables[f"need_provision:{tag}"], adds_across=q.need_provision.table.adds_across
                ),
            ),
        )
    if q.attendance_without_plan is not None:
        t = tables[f"attendance_without_plan:{tag}"]
        summary = q.attendance_without_plan.summary
        if t.grand_total_hidden and " on the SEN register" in summary:
            summary = (
                "A number of pupils ("
                + HIDDEN_PHRASE
                + ")"
                + summary[summary.index(" on the SEN register") :]
            )
        out = replace(
            out,
            attendance_without_plan=replace(q.attendance_without_plan, table=t, summary=summary),
        )
    return out
