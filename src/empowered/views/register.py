"""The SEND register page: its questions answered with figures, and the filterable list.

The questions (against national figures, provision against need, training against need,
attendance without a plan) are school-level analytics, already suppressed. They are
answered per school in scope (the whole trust when the scope is every school), and not at
all for a scope limited to some pupils, whose user would otherwise learn about pupils
outside it. The pupil list and its counts come from ``marts.register_pupil`` filtered by
the scope in SQL; a trust analyst gets counts only, suppressed, and no pupil list.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import duckdb
import xlsxwriter

from empowered.access.sections import Section
from empowered.analytics.disclosure import DisclosedTable
from empowered.analytics.register import (
    AttendanceWithoutPlan,
    NationalComparison,
    NeedProvision,
    TrainingAgainstNeed,
)
from empowered.analytics.sen_status_comparison import SenStatusComparison, compare_by_sen_status
from empowered.analytics.wording import count_phrase
from empowered.exports import write_cells
from empowered.identity import identity_reader
from empowered.views import PupilScope, count_series, count_table, needs_suppression, queries
from empowered.views.cache import DEFAULT_CACHE, Recent, SchoolAnalyticsCache, warehouse_key
from empowered.views.register_disclosure import (
    page_specs,
    page_tables,
    sheet_title,
    suppressed_question,
)
from empowered.views.school_words import area_label, need_label, year_label, year_number

# Filters shown in words ("need Autistic spectrum disorder, year group Reception").
_WORDS_OF = {"need": need_label, "broad_area": area_label, "year_group": year_label}
SEN_PROVISION_LABELS = {"K": "SEN support", "E": "EHC plan", "N": "No SEN"}
# Unfiltered pages and their suppressed tables, by (warehouse, build), scope and filters.
_PUBLISHED: Recent[tuple[list[dict[str, Any]], dict[str, DisclosedTable]]] = Recent(16)


@dataclass(frozen=True)
class RegisterFilters:
    need: str | None = None  # primary need code (e.g. "ASD")
    broad_area: str | None = None  # broad area of need code (e.g. "CI"), of the primary need
    provision_code: str | None = None  # intervention code
    year_group: str | None = None
    pupil_premium: bool | None = None
    eal: bool | None = None
    attendance_below: float | None = None  # a proportion, e.g. 0.9
    on_register_only: bool = True  # False includes pupils with no SEN

    def describe(self) -> str:
        """The filters in words staff read: "year group 7, pupil premium yes, attendance
        below 90%"."""
        defaults = RegisterFilters()
        parts = [
            f"{k.replace('_', ' ')} {_in_words(k, v)}"
            for k, v in asdict(self).items()
            if v is not None and v != getattr(defaults, k)
        ]
        if not self.on_register_only:
            parts.append("including pupils with no SEN")
        return ", ".join(p for p in parts if not p.startswith("on register only"))


def _in_words(name: str, value: object) -> str:
    if name in _WORDS_OF:
        return _WORDS_OF[name](str(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "attendance_below" and isinstance(value, float):
        return f"{100 * value:g}%"
    return str(value)


@dataclass(frozen=True)
class RegisterQuestions:
    school_urn: str | None  # None = the whole trust
    national: NationalComparison
    need_provision: NeedProvision | None  # None without the provision area
    training: TrainingAgainstNeed
    attendance_without_plan: AttendanceWithoutPlan | None  # None without the attendance area
    # FSM, pupil premium, EAL and absence by SEN status against England (absence rows only
    # with the attendance area); None where not asked.
    by_sen_status: SenStatusComparison | None = None


@dataclass(frozen=True)
class RegisterRow:
    pupil_key: str
    school_urn: str
    name: str | None  # only for identified scopes
    year_group: str | None
    sen_provision: str
    primary_need: str | None
    primary_need_name: str | None
    pupil_premium: bool
    eal: bool
    attendance_rate: float | None
    has_current_plan: bool
    review_overdue: bool
    provision_codes: tuple[str, ...]
    # "from a summary the school sent" where the year has no session marks; None from marks.
    attendance_note: str | None = None

    @property
    def year_words(self) -> str:
        """ "Reception", "Year 3": the year group as staff say it."""
        return year_label(self.year_group)


@dataclass(frozen=True)
class RegisterPage:
    filters: RegisterFilters
    questions: tuple[RegisterQuestions, ...]
    pupils: tuple[RegisterRow, ...]  # empty for a scope that may not see pupils
    by_need: DisclosedTable  # primary need x (SEN support, EHC plan), over the filtered list
    by_provision: DisclosedTable  # intervention code x pupils, over the filtered list
    identified: bool
    summary: str
    # The policy's sections (access.sections): what the page may show at all.
    provision_shown: bool = True
    attendance_shown: bool = True


def register_page(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    filters: RegisterFilters,
    cache: SchoolAnalyticsCache | None = None,
) -> RegisterPage:
    cache = DEFAULT_CACHE if cache is None else cache
    # Each part of the page is a section the policy decides on: the attendance column,
    # filter and question need the attendance area; the provision ones the provision area.
    attendance_shown = scope.shows(Section.REGISTER_ATTENDANCE)
    provision_shown = scope.shows(Section.REGISTER_PROVISION)
    filters = replace(
        filters,
        attendance_below=filters.attendance_below if attendance_shown else None,
        provision_code=filters.provision_code if provision_shown else None,
    )
    rows = _list(con, scope, filters)
    listed = scope.identified and scope.shows(Section.REGISTER_LIST)
    pupils: tuple[RegisterRow, ...] = ()
    if listed:
        reader = identity_reader(scope)
        pupils = tuple(
            _row(r | {"name": reader.name(r)}, True, attendance_shown, provision_shown)
            for r in rows
        )
    questions = (
        tuple(
            _questions(con, s, scope, cache, attendance_shown, provision_shown)
            for s in _question_schools(con, scope)
        )
        if scope.shows(Section.REGISTER_QUESTIONS)
        else ()
    )
    if needs_suppression(scope):
        # Every table of the page (and of its spreadsheet), the "pupils match" count and
        # the unfiltered page the same reader can open are suppressed together, so no
        # hidden figure follows from another table or a filtered count by subtraction.
        base = RegisterFilters(on_register_only=filters.on_register_only)
        # The unfiltered page is the same for the same scope on the same build: read and
        # suppressed once, not again for every filtered view of it.
        key = (warehouse_key(con), scope, base)
        kept = _PUBLISHED.get(key)
        if kept is None:
            unfiltered = rows if filters == base else _list(con, scope, base)
            kept = _PUBLISHED.put(
                key, (unfiltered, page_tables(page_specs(scope, base, unfiltered, questions)))
            )
        everyone, published = kept
        tables = (
            published
            if filters == base
            else page_tables(
                page_specs(scope, filters, rows, questions, everyone=everyone, published=published)
            )
        )
        by_need, by_provision = tables["by_need"], tables["by_provision"]
        # The questions do not depend on the filters: as the unfiltered page shows them.
        questions = tuple(suppressed_question(q, published) for q in questions)
    else:
        by_need = _by_need(scope, rows)
        by_provision = count_series(scope, _code_counts(rows), column_label="pupils")
    if by_need.withheld:
        summary = (
            "The figures for this filter are withheld: shown, they would let a small group "
            "be worked out"
        )
    elif by_need.grand_total_hidden:
        summary = "The number of pupils who match is hidden to protect a small group"
    else:
        summary = f"{by_need.grand_total} pupils match"
    summary += f" ({filters.describe()})" if filters.describe() else ""
    summary += "." if listed else "; the pupil list is not shown for this role."
    return RegisterPage(
        filters,
        questions,
        pupils,
        by_need,
        by_provision,
        scope.identified,
        summary,
        provision_shown=provision_shown,
        attendance_shown=attendance_shown,
    )


def _list(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, filters: RegisterFilters
) -> list[dict[str, Any]]:
    return queries.rows(
        con,
        "register_list",
        scope=scope,
        identified=scope.identified,
        on_register_only=filters.on_register_only,
        need=filters.need,
        broad_area=filters.broad_area,
        provision_code=filters.provision_code,
        year_group=filters.year_group,
        pupil_premium=filters.pupil_premium,
        eal=filters.eal,
        attendance_below=filters.attendance_below,
    )


def _code_counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    codes: Counter[str] = Counter(
        c for r in rows for c in str(r["provision_codes"] or "").split(",") if c
    )
    return dict(sorted(codes.items()))


SUMMARY_NOTE = "from a summary the school sent"  # marts.attendance_pupil_year_all


def _row(
    r: dict[str, Any], identified: bool, attendance: bool = True, provision: bool = True
) -> RegisterRow:
    return RegisterRow(
        pupil_key=str(r["pupil_key"]),
        school_urn=str(r["school_urn"]),
        name=r["name"] if identified else None,
        year_group=r["year_group"],
        sen_provision=str(r["sen_provision"]),
        primary_need=r["primary_need"],
        primary_need_name=r["primary_need_name"],
        pupil_premium=bool(r["pupil_premium"]),
        eal=bool(r["is_eal"]),
        attendance_rate=None
        if r["attendance_rate"] is None or not attendance
        else float(r["attendance_rate"]),
        has_current_plan=bool(r["has_current_plan"]),
        review_overdue=bool(r["review_overdue"]),
        provision_codes=tuple(c for c in str(r["provision_codes"] or "").split(",") if c)
        if provision
        else (),
        attendance_note=r.get("attendance_source_text")
        if attendance and r.get("attendance_source_text") == SUMMARY_NOTE
        else None,
    )


def _by_need(scope: PupilScope, rows: Sequence[dict[str, Any]]) -> DisclosedTable:
    columns = ("K", "E", "N") if any(r["sen_provision"] == "N" for r in rows) else ("K", "E")
    counts: dict[str, list[int]] = {}
    for r in rows:
        need = str(r["primary_need_name"] or r["primary_need"] or "no need recorded")
        counts.setdefault(need, [0] * len(columns))
        if r["sen_provision"] in columns:
            counts[need][columns.index(r["sen_provision"])] += 1
    needs = sorted(counts)
    return count_table(
        scope,
        [counts[n] for n in needs] or [[0] * len(columns)],
        row_labels=tuple(needs) or ("no pupils match",),
        column_labels=tuple(SEN_PROVISION_LABELS[c] for c in columns),
    )


def _question_schools(con: duckdb.DuckDBPyConnection, scope: PupilScope) -> list[str | None]:
    if scope.pupils is not None:
        return []
    if scope.schools is None:
        return [None]
    return [str(r["school_urn"]) for r in queries.rows(con, "scope_schools", scope=scope)]


def _questions(
    con: duckdb.DuckDBPyConnection,
    school: str | None,
    scope: PupilScope,
    cache: SchoolAnalyticsCache,
    attendance: bool = True,
    provision: bool = True,
) -> RegisterQuestions:
    # School-level analytics, the same for every user: computed once per build (cached).
    without_plan = cache.attendance_without_plan(con, school)
    # The analytics list the pupils for roles allowed to see them: keep only those in
    # scope, and none at all for a scope that may not see pupils.
    keys = tuple(k for k in without_plan.pupil_keys if scope.identified and scope.pupils is None)
    national = cache.compare_with_national(con, school)
    return RegisterQuestions(
        school,
        national,
        cache.provision_against_need(con, school) if provision else None,
        cache.training_against_need(con, school),
        replace(without_plan, pupil_keys=keys) if attendance else None,
        by_sen_status(
            con, school, special=national.compared_with != "nationally", attendance=attendance
        ),
    )


def by_sen_status(
    con: duckdb.DuckDBPyConnection, school: str | None, *, special: bool, attendance: bool
) -> SenStatusComparison:
    """The comparison by SEN status, without its absence rows where the policy hides the
    attendance area."""
    found = compare_by_sen_status(con, school_urn=school, special=special)
    if attendance:
        return found
    return replace(found, rows=tuple(r for r in found.rows if "absence" not in r.measure))


# -- Export -------------------------------------------------------------------------------


def register_xlsx(page: RegisterPage) -> bytes:
    """The page as a workbook: questions, counts and (for identified staff) the pupil list.

    Every text cell goes through :func:`empowered.exports.safe_cell`, so a value such as
    ``=HYPERLINK(...)`` is stored as text, never as a formula.
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True})

    sheet = book.add_worksheet("Questions")
    write_cells(sheet, 0, ("scope", "question", "answer"), bold)
    n = 1
    for q in page.questions:
        where = q.school_urn or "whole trust"
        for label, answer in (
            ("Against national figures", q.national.summary),
            ("Provision against need", q.need_provision.summary if q.need_provision else None),
            ("Training against need", q.training.summary),
            (
                "Attendance without a plan",
                q.attendance_without_plan.summary if q.attendance_without_plan else None,
            ),
            *((f"Against {a.label}", a.sources) for a in q.national.areas),
            ("By SEN status", q.by_sen_status.summary if q.by_sen_status else None),
        ):
            if answer is None:
                continue
            write_cells(sheet, n, (where, label, answer))
            n += 1

    sheets = [("By need", page.by_need)]
    if page.provision_shown:
        sheets.append(("By provision", page.by_provision))
    for q in page.questions:
        # The same tables as the page, suppressed with it (never recomputed here).
        if q.need_provision is not None:
            sheets.append((sheet_title("Need vs provision", q.school_urn), q.need_provision.table))
    for title, table in sheets:
        sheet = book.add_worksheet(title)
        rows = table.rows()
        header = list(rows[0]) if rows else ["label"]
        write_cells(sheet, 0, header, bold)
        for i, r in enumerate(rows, start=1):
            write_cells(sheet, i, [r[h] for h in header])
        write_cells(sheet, len(rows) + 2, (table.legend,))

    for q in page.questions:
        if q.by_sen_status is None:
            continue
        sheet = book.add_worksheet(sheet_title("By SEN status", q.school_urn))
        against = q.by_sen_status.compared_with
        write_cells(
            sheet,
            0,
            ("measure", "SEN status", "here (%)", f"{against} (%)", "period", "source"),
            bold,
        )
        for i, f in enumerate(q.by_sen_status.rows, start=1):
            write_cells(
                sheet, i, (f.measure, f.status, f.ours, f.national, f.national_period, f.source)
            )
    if page.identified:
        sheet = book.add_worksheet("Pupils")
        columns = (
            "pupil key", "school", "name", "year group", "year group (number)", "SEN provision",
            "primary need", "pupil premium", "EAL", "attendance", "current plan", "review overdue",
            "provision",
        )  # fmt: skip
        write_cells(sheet, 0, columns, bold)
        for i, p in enumerate(page.pupils, start=1):
            write_cells(
                sheet,
                i,
                (
                    p.pupil_key,
                    p.school_urn,
                    p.name,
                    p.year_words,
                    year_number(p.year_group),  # Reception 0: sorts in school order
                    SEN_PROVISION_LABELS.get(p.sen_provision, p.sen_provision),
                    p.primary_need_name or p.primary_need,
                    "yes" if p.pupil_premium else "no",
                    "yes" if p.eal else "no",
                    p.attendance_rate,
                    "yes" if p.has_current_plan else "no",
                    "yes" if p.review_overdue else "no",
                    ", ".join(p.provision_codes),
                ),
            )
    info = book.add_worksheet("About")
    write_cells(info, 0, (page.summary,))
    write_cells(info, 1, (f"Filters: {page.filters.describe() or 'none'}",))
    write_cells(info, 2, (f"{count_phrase(len(page.questions), 'scope')} of register questions.",))
    book.close()
    return buffer.getvalue()
