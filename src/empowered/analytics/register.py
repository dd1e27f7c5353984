"""The SEND register as an analytical tool: the questions a SENCo or trust lead asks of it.

1. How do our SEN figures compare with the national ones (and from which year)?
2. Which needs have no matching provision, and which provision no matching need?
3. Which needs are the largest or growing term on term, against the training staff have had?
4. Which pupils on the register have low or falling attendance and no current plan?

Every figure about a group passes through :func:`~empowered.analytics.disclosure.suppress`
(registered with :func:`~empowered.analytics.aggregates.multi_pupil`). A school or trust is
passed as ``school_urn`` (``None`` = the whole trust).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import duckdb

from empowered.analytics import queries
from empowered.analytics.aggregates import multi_pupil
from empowered.analytics.disclosure import DisclosedTable, suppress, suppress_series
from empowered.analytics.wording import count_phrase, percent

LOW_ATTENDANCE = 0.90  # below this a pupil is persistently absent
FALLING_ATTENDANCE = -0.05  # five points lower over the last six weeks than before
TRAINING_GAP_RATIO = 0.5  # training share under half the need's share of the register


def _scope(school_urn: str | None) -> str:
    return school_urn if school_urn is not None else "TRUST"


NO_SPECIAL_FIGURE = (
    "this is a special school, and no national figure for special schools is loaded: the "
    "figures for all schools would not compare like with like"
)


@dataclass(frozen=True)
class AreaFigures:
    """The figures of one region or local authority a user loaded, for the comparison."""

    label: str  # "London (region)", "Enfield (local authority)"
    values: dict[str, float]  # measure -> percent
    sources: str  # the census and source of its figures, in words


@dataclass(frozen=True)
class NationalComparison:
    table: DisclosedTable  # our pupils by SEN status
    # measure, ours (None if hidden), national, year, period, source, and "areas": the
    # region's and local authority's figure for the measure, in the order of ``areas``.
    rows: tuple[dict[str, Any], ...]
    summary: str
    # Which national figures: "nationally" (all schools) or, for a special school, "in
    # special schools in England"; None for a special school with no such figure loaded.
    compared_with: str | None = "nationally"
    # The school's region and local authority, where a DfE file with their figures was
    # loaded (empowered load-national-figures); empty otherwise, and for the whole trust.
    areas: tuple[AreaFigures, ...] = ()


_MEASURES = (
    ("SEN support", "sen_support", "pct_sen_support"),
    ("EHC plan", "ehc_plan", "pct_ehc_plan"),
)


@multi_pupil
def compare_with_national(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> NationalComparison:
    """SEN support and EHC plan shares against the latest census figures for schools of
    the same kind, in England and (where loaded) the school's region and local authority:
    a special school (nearly every pupil has an EHC plan) against special schools, never
    against all schools; with no such figure loaded, none."""
    summary_rows = queries.rows(con, "register_summary", scope=_scope(school_urn))
    special = school_urn is not None and any(
        r["is_special_school"]
        for r in queries.rows(con, "school_is_special", school_urn=school_urn)
    )
    school_type = "special" if special else "all"
    national = _figures(con, school_type, "national", None)
    against = "nationally" if not special else "in special schools in England" if national else None
    areas = _areas(con, school_urn, school_type, special)
    if not summary_rows:
        empty = suppress_series({}, total=True)
        return NationalComparison(empty, (), "No pupils on roll in the warehouse yet.")
    s = summary_rows[0]
    table = suppress_series(
        {
            "SEN support": int(s["sen_support"]),
            "Education, health and care plan": int(s["ehc_plan"]),
            "No special educational needs": int(s["no_sen"]),
        }
    )
    out = []
    sentences = []
    for row, (label, count_key, measure) in enumerate(_MEASURES):
        hidden = bool(table.hidden[row, 0])
        ours = None if hidden else 100.0 * int(s[count_key]) / max(int(s["pupils_on_roll"]), 1)
        nat = national.get(measure)
        out.append(
            {
                "measure": label,
                "ours": ours,
                "national": float(nat["value"]) if nat else None,
                "national_year": nat["academic_year"] if nat else None,
                "national_period": nat["period"] if nat else None,
                "source": nat["source"] if nat else None,
                "areas": tuple(a.values.get(measure) for a in areas),
            }
        )
        sentences.append(comparison_sentence(out[-1], ours, against))
    return NationalComparison(
        table, tuple(out), national_summary(sentences, against), against, areas
    )


def comparison_sentence(row: dict[str, Any], ours: float | None, against: str | None) -> str:
    """One measure of the comparison in words (the register page and its suppressed copy)."""
    label = row["measure"]
    if ours is None:
        return f"{label}: hidden to protect a small group, so no percentage is shown"
    if row["national"] is not None:
        return (
            f"{label}: {ours:.1f}% of pupils here, against {float(row['national']):.1f}% "
            f"{against} ({row['national_period']})"
        )
    return f"{label}: {ours:.1f}% of pupils here"


def _figures(
    con: duckdb.DuckDBPyConnection, school_type: str, level: str, code: str | None
) -> dict[str, dict[str, Any]]:
    return {
        str(r["measure"]): r
        for r in queries.rows(
            con, "national_sen_figures", school_type=school_type, level=level, code=code
        )
    }


def _areas(
    con: duckdb.DuckDBPyConnection, school_urn: str | None, school_type: str, special: bool
) -> tuple[AreaFigures, ...]:
    """The school's region and local authority figures, where a loaded file has them."""
    if school_urn is None:
        return ()
    found = queries.rows(con, "school_area", school_urn=school_urn)
    if not found:
        return ()
    area = found[0]
    kind = ", special schools" if special else ""
    out = []
    for level, code, name, what in (
        ("regional", area["region_code"], area["region_name"], "region"),
        ("la", area["new_la_code"], area["la_name"], "local authority"),
    ):
        figures = _figures(con, school_type, level, code)
        wanted = {m: float(figures[m]["value"]) for _, _, m in _MEASURES if m in figures}
        if not wanted:
            continue
        sources = sorted({f"{r['period']} ({r['source']})" for r in figures.values()})
        out.append(AreaFigures(f"{name} ({what}{kind})", wanted, "; ".join(sources)))
    return tuple(out)


def national_summary(sentences: Sequence[str], against: str | None) -> str:
    """The comparison's sentences as one, saying when there is no like-for-like figure."""
    if against is None:
        sentences = [*sentences, NO_SPECIAL_FIGURE]
    text = "; ".join(sentences)
    return text[:1].upper() + text[1:] + "."


@dataclass(frozen=True)
class NeedProvision:
    table: DisclosedTable  # SEN pupils by primary need: on the register, with matching provision
    needs_without_provision: tuple[str, ...]
    provision_without_need: tuple[str, ...]
    summary: str


@multi_pupil
def provision_against_need(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> NeedProvision:
    """Needs on the register with no matching provision, and provision with no such need."""
    coverage = queries.rows(con, "need_coverage", school_urn=school_urn)
    by_need: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in coverage:
        # Staff read the need's name ("Hearing impairment"), not its census code ("HI").
        need = str(r["primary_need_name"] or r["primary_need"])
        by_need[need][0] += int(r["sen_pupils"])
        by_need[need][1] += int(r["pupils_with_matching_provision"])
    needs = sorted(by_need)
    table = replace(
        suppress(
            [by_need[n] for n in needs],
            row_labels=tuple(needs),
            column_labels=("pupils on the register", "with matching provision"),
        ),
        adds_across=False,  # the second column is part of the first
    )
    without = tuple(n for n in needs if by_need[n][0] > 0 and by_need[n][1] == 0)
    spare = tuple(
        sorted(
            {
                str(r["intervention_name"])
                for r in queries.rows(con, "provision_without_need", school_urn=school_urn)
            }
        )
    )
    parts = []
    if without:
        parts.append(
            f"{count_phrase(len(without), 'need')} on the register with no matching provision: "
            + ", ".join(without)
        )
    else:
        parts.append("Every need on the register has some matching provision")
    if spare:
        parts.append(
            f"{count_phrase(len(spare), 'intervention')} with no pupil whose need it targets: "
            + ", ".join(spare)
        )
    return NeedProvision(table, without, spare, ". ".join(parts) + ".")


@dataclass(frozen=True)
class TrainingGap:
    need: str
    register_share: float
    training_share: float
    why: str  # "the largest need" or "growing term on term"


@dataclass(frozen=True)
class TrainingAgainstNeed:
    table: DisclosedTable  # pupils by need (this term), training records by need
    gaps: tuple[TrainingGap, ...]
    summary: str


@multi_pupil
def training_against_need(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> TrainingAgainstNeed:
    """Needs that are the largest or growing term on term, against training recorded.

    A gap is a need whose share of the register is the largest (or grew since last term)
    while its share of training records is under half its share of the register.
    """
    terms = queries.rows(con, "need_by_term", school_urn=school_urn)
    training: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {}  # census code -> the need's name, which staff read
    for r in queries.rows(con, "need_coverage", school_urn=school_urn):
        training[str(r["primary_need"])] += int(r["training_records_for_need"] or 0)
        names[str(r["primary_need"])] = str(r["primary_need_name"] or r["primary_need"])
    by_term: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    order: list[tuple[str, str]] = []
    for r in terms:
        key = (str(r["academic_year"]), str(r["term_start"]))
        if key not in by_term:
            order.append(key)
        by_term[key][str(r["primary_need"])] += int(r["pupils"])
    order.sort(key=lambda k: k[1])
    if not order:
        empty = suppress_series({})
        return TrainingAgainstNeed(empty, (), "No SEN register history yet.")
    latest = by_term[order[-1]]
    previous = by_term[order[-2]] if len(order) > 1 else {}
    total = sum(latest.values()) or 1
    total_training = sum(training.values())
    largest = max(sorted(latest), key=lambda n: latest[n])
    gaps: list[TrainingGap] = []
    for need in sorted(latest):
        share = latest[need] / total
        prev_total = sum(previous.values())
        growing = bool(prev_total) and share > previous.get(need, 0) / prev_total + 0.02
        if need != largest and not growing:
            continue
        t_share = training.get(need, 0) / total_training if total_training else 0.0
        if t_share < TRAINING_GAP_RATIO * share:
            why = "the largest need" if need == largest else "growing term on term"
            gaps.append(TrainingGap(need, share, t_share, why))
    needs = sorted(latest)
    table = suppress(
        [[latest[n], training.get(n, 0)] for n in needs],
        row_labels=tuple(names.get(n, n) for n in needs),
        column_labels=("pupils on the register", "training records"),
    )
    if gaps:
        summary = (
            "; ".join(
                f"{names.get(g.need, g.need)} is {g.why} ({percent(g.register_share)} of the "
                f"register) but "
                f"{percent(g.training_share)} of training records"
                for g in gaps
            )
            + "."
        )
    else:
        summary = "Training recorded keeps up with the largest and growing needs."
    return TrainingAgainstNeed(table, tuple(gaps), summary)


@dataclass(frozen=True)
class AttendanceWithoutPlan:
    table: DisclosedTable  # count of such pupils, by year group
    pupil_keys: tuple[str, ...]  # for roles allowed to see pupils; never for analysts
    summary: str


def low_or_falling(rate: float | None, change: float | None) -> bool:
    """THE rule for attendance that needs looking at: under ``LOW_ATTENDANCE``, or
    ``FALLING_ATTENDANCE`` or more lower over the last six weeks (the register's question
    and the termly review pack both ask it)."""
    if rate is None:
        return False
    return float(rate) < LOW_ATTENDANCE or (
        change is not None and float(change) <= FALLING_ATTENDANCE
    )


@multi_pupil
def attendance_without_plan(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> AttendanceWithoutPlan:
    """Pupils on the SEN register with low or falling attendance and no current plan."""
    pupils = [
        r
        for r in queries.rows(con, "register_pupils", school_urn=school_urn)
        if r["on_register"]
        and not r["has_current_plan"]
        and low_or_falling(r["attendance_rate"], r["attendance_change"])
    ]
    by_year: dict[str, int] = defaultdict(int)
    for r in pupils:
        by_year[str(r["year_group"] or "unknown")] += 1
    table = suppress_series(dict(sorted(by_year.items())))
    if table.grand_total_hidden:
        count = "Fewer than 5 pupils"
    else:
        count = count_phrase(len(pupils), "pupil")
    summary = (
        f"{count} on the SEN register have attendance under {percent(LOW_ATTENDANCE)} or "
        f"falling, and no current support plan."
    )
    return AttendanceWithoutPlan(table, tuple(sorted(str(r["pupil_key"]) for r in pupils)), summary)
