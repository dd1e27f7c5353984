"""The strategies and patterns page: what helps whom, and when incidents happen.

"What helps" is judged per child against the child's own other strategies, over a whole
school at once (:func:`empowered.analytics.strategies.strategy_effects`, cached per school
and build); this page restricts the results to the pupils in the user's scope and shows them
three ways: by strategy, by broad area of need (SEND Code of Practice), and per pupil with
the numbers (uses, the calmer-mood rate shrunk towards the child's own usual, its likely
range, the judgement). The time-slot scatterplot (Touchette) and a time-slot by weekday
table count the incidents of the pupils in scope.

A scope that may not see pupils one by one (a trust analyst) gets the counts only, through
the one suppression function (:func:`empowered.views.count_table`): no names, no pupil
keys, no per-pupil rows and no day-by-day chart, whose cells would be small counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import duckdb
import numpy as np

from empowered.access.sections import Section
from empowered.analytics.disclosure import DisclosedTable, Key, PageTable, key_of, suppress_page
from empowered.analytics.situations import Scatterplot, StandingSituation, scatterplot
from empowered.analytics.strategies import StrategyEffect
from empowered.analytics.wording import count_phrase, percent, percent_range
from empowered.charts import Chart, scatterplot_grid
from empowered.identity import identity_reader
from empowered.views import PupilScope, count_table, needs_suppression, queries
from empowered.views.cache import DEFAULT_CACHE, SchoolAnalyticsCache

SCATTERPLOT_DAYS = 20  # school days across the scatterplot
WEEKDAY_WEEKS = 52  # how far back the time-slot by weekday table counts
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
# Shading of the time-slot by weekday table, by thirds of the largest shown count; the count
# is always printed too, so the shade never carries meaning alone.
SHADES = ("none", "low", "mid", "high")
CHILDREN_JUDGED = "children with enough uses to judge"
CHILDREN_STOOD_OUT = "children for whom it stood out"


@dataclass(frozen=True)
class EffectRow:
    """One child's result for one strategy, for staff who may see the child."""

    pupil_key: str
    name: str | None
    area_of_need: str
    strategy_name: str
    uses: int
    calmer: int
    estimate: float  # shrunk towards the child's own usual rate
    low: float
    high: float
    stands_out: bool
    judgement: str
    summary: str

    @property
    def rate_text(self) -> str:
        return percent(self.estimate)

    @property
    def range_text(self) -> str:
        return percent_range(self.low, self.high)


@dataclass(frozen=True)
class SlotStandsOut:
    """A time of day that stands out as harder for one child (per-child statistics)."""

    pupil_key: str
    name: str | None
    summary: str


@dataclass(frozen=True)
class StrategiesPage:
    school_urn: str | None
    schools: tuple[tuple[str, str], ...]
    identified: bool
    by_strategy: DisclosedTable  # strategy x (children judged, children it stood out for)
    by_area: DisclosedTable  # area of need x (children judged, children something stood out)
    standing_by_area: DisclosedTable | None  # strategy x area: children it stood out for
    rows: tuple[EffectRow, ...]  # identified scopes only: judged results, best first
    not_judged: int | None  # identified scopes: results with too few uses to judge yet
    grid: Chart | None  # identified scopes only: slots x latest school days
    by_weekday: DisclosedTable  # time slot x weekday, incidents
    weekday_shade: tuple[tuple[str, ...], ...]  # a shade name per cell, "none" where hidden
    slots_standing: tuple[SlotStandsOut, ...]
    summary: str
    patterns_summary: str
    # The policy's sections (access.sections): a section not shown was not computed.
    effects_shown: bool = True
    patterns_shown: bool = True


def _judgement(e: StrategyEffect) -> str:
    if e.not_enough:
        return "Not enough uses yet to judge"
    if e.stands_out:
        return "Stands out against this child's other strategies"
    return "No clear difference from this child's other strategies"


def _school_choice(
    con: duckdb.DuckDBPyConnection, scope: PupilScope, school_urn: str | None
) -> tuple[tuple[tuple[str, str], ...], tuple[str, date] | None]:
    rows = queries.rows(con, "scope_schools", scope=scope)
    schools = tuple((str(r["school_urn"]), str(r["school_name"])) for r in rows)
    as_of = {str(r["school_urn"]): r["as_of_date"] for r in rows}
    urn = next((s for s, _ in schools if s == school_urn), schools[0][0] if schools else None)
    if urn is None:
        return schools, None
    return schools, (urn, _day(as_of.get(urn)) or date.today())


def _day(value: object) -> date | None:
    """A DATE or TIMESTAMP value from DuckDB as a date."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def strategies_page(
    con: duckdb.DuckDBPyConnection,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None = None,
    school_urn: str | None = None,
) -> StrategiesPage:
    """One school's page for the pupils in ``scope`` (a trust-wide scope chooses a school)."""
    cache = cache or DEFAULT_CACHE
    schools, chosen = _school_choice(con, scope, school_urn)
    if chosen is None:
        empty = count_table(scope, [[0, 0]], row_labels=("none",), column_labels=("a", "b"))
        return StrategiesPage(
            None, schools, scope.identified, empty, empty, None, (), 0, None, empty, (), (),
            "No school is in your scope.", "",
        )  # fmt: skip
    urn, as_of = chosen
    # One school at a time: identified staff of that school see its counts as they are.
    here = replace(scope, schools=frozenset({urn}))
    # Each half of the page is a section the policy decides on (a visitor given strategies
    # but not behaviour gets what helps, not when incidents happen): not read otherwise.
    effects_shown = scope.shows(Section.STRATEGY_EFFECTS)
    patterns_shown = scope.shows(Section.STRATEGY_PATTERNS)
    effects = [
        e
        for e in (cache.strategy_effects(con, urn) if effects_shown else ())
        if here.admits(e.pupil_key, urn)
    ]
    needs = {
        str(r["pupil_key"]): str(r["area_of_need"])
        for r in queries.rows(con, "strategy_pupil_needs", scope=here, school_urn=urn)
    }
    judged = [e for e in effects if e.not_enough is None]
    by_strategy = _by_strategy(here, judged)
    by_area, standing_by_area = _by_area(here, judged, needs)
    if needs_suppression(here):
        # "Children it stood out for" is in two tables (by strategy, and its row total by
        # area of need): suppressed together so one cannot be worked out from the other.
        by_strategy, by_area, standing_by_area = _together(by_strategy, by_area, standing_by_area)
    incidents = (
        queries.rows(
            con,
            "strategy_incidents",
            scope=here,
            school_urn=urn,
            since=as_of - timedelta(weeks=WEEKDAY_WEEKS),
        )
        if patterns_shown
        else []
    )
    slots = [
        (int(r["time_slot"]), str(r["label"]))
        for r in queries.rows(con, "school_time_slots", school_urn=urn)
    ]
    by_weekday, shade = _by_weekday(here, incidents, slots)
    rows: tuple[EffectRow, ...] = ()
    grid = None
    standing: tuple[SlotStandsOut, ...] = ()
    if scope.identified:
        harder = [
            h
            for h in (cache.standing_situations(con, urn) if patterns_shown else ())
            if h.dimension == "time_slot" and here.admits(h.pupil_key, urn)
        ]
        names = _names(con, here, {e.pupil_key for e in judged} | {h.pupil_key for h in harder})
        rows = tuple(
            sorted(
                (_row(e, names, needs) for e in judged),
                key=lambda r: (not r.stands_out, -r.estimate, r.name or r.pupil_key),
            )
        )
        grid = _grid(con, urn, as_of, incidents, slots) if patterns_shown else None
        standing = tuple(_standing(h, names) for h in harder)
    stood = sorted({e.strategy_name for e in judged if e.stands_out})
    children = len({e.pupil_key for e in judged})
    if scope.identified:
        summary = (
            f"{count_phrase(len(judged), 'result')} with enough uses to judge, for "
            f"{count_phrase(children, 'child', 'children')}; "
            + (
                f"standing out for some children: {', '.join(stood)}."
                if stood
                else "none stands out for any child beyond chance."
            )
        )
    else:
        summary = (
            "How many children each strategy was judged for, and for how many it stood out, "
            "with small numbers hidden. "
            + (
                f"Strategies that stood out for some children: {', '.join(stood)}."
                if stood
                else "None stood out beyond chance."
            )
        )
    patterns = (
        "Counts of incidents by time of day and weekday over the last year for the pupils "
        "shown. Shading alone invites reading patterns into noise: whether a time stands "
        "out is judged per child, against the child's own other times."
    )
    return StrategiesPage(
        school_urn=urn,
        schools=schools,
        identified=scope.identified,
        by_strategy=by_strategy,
        by_area=by_area,
        standing_by_area=standing_by_area,
        rows=rows,
        not_judged=len(effects) - len(judged) if scope.identified else None,
        grid=grid,
        by_weekday=by_weekday,
        weekday_shade=shade,
        slots_standing=standing,
        summary=summary,
        patterns_summary=patterns,
        effects_shown=effects_shown,
        patterns_shown=patterns_shown,
    )


def _together(
    by_strategy: DisclosedTable, by_area: DisclosedTable, standing: DisclosedTable | None
) -> tuple[DisclosedTable, DisclosedTable, DisclosedTable | None]:
    """The page's tables of children through the one page-level suppression step."""
    judged, stood = key_of({"judged": "yes"}), key_of({"stood": "yes"})

    def unique(name: str, n: int) -> tuple[Key, ...]:
        # Totals over overlapping groups (a child judged on several strategies): a sum of
        # places, not a count of children, so a key of their own.
        return tuple(key_of({"sum": name, "line": str(i)}) for i in range(n))

    s_rows = tuple(key_of({"strategy": s}) for s in by_strategy.row_labels)
    a_rows = tuple(key_of({"area": a}) for a in by_area.row_labels)
    tables = [
        PageTable(
            "by_strategy", by_strategy.counts, by_strategy.row_labels,
            by_strategy.column_labels, s_rows, (judged, stood),
            row_total_keys=unique("by_strategy rows", len(s_rows)),
            column_total_keys=unique("by_strategy columns", 2),
            grand_key=key_of({"sum": "by_strategy"}), unit="children",
        ),
        PageTable(
            "by_area", by_area.counts, by_area.row_labels, by_area.column_labels, a_rows,
            (key_of({"any": "judged"}), key_of({"any": "stood"})),
            row_total_keys=unique("by_area rows", len(a_rows)),
            grand_key=key_of({"sum": "by_area"}), unit="children",
        ),
    ]  # fmt: skip
    if standing is not None:
        tables.append(
            PageTable(
                "standing", standing.counts, standing.row_labels, standing.column_labels,
                tuple(key_of({"strategy": s}) for s in standing.row_labels),
                tuple(key_of({"area": a}) for a in standing.column_labels), base=stood,
                column_total_keys=unique("standing columns", len(standing.column_labels)),
                grand_key=key_of({"sum": "standing"}), unit="children",
            )
        )  # fmt: skip
    out = suppress_page(tables)
    return out["by_strategy"], out["by_area"], out.get("standing")


def _names(con: duckdb.DuckDBPyConnection, scope: PupilScope, keys: set[str]) -> dict[str, str]:
    if not scope.identified or not keys:
        return {}
    rows = queries.rows(con, "pupil_names", scope=scope, pupil_keys=sorted(keys))
    return identity_reader(scope).names(rows)


def _row(e: StrategyEffect, names: dict[str, str], needs: dict[str, str]) -> EffectRow:
    return EffectRow(
        pupil_key=e.pupil_key,
        name=names.get(e.pupil_key),
        area_of_need=needs.get(e.pupil_key, "No primary need recorded"),
        strategy_name=e.strategy_name,
        uses=e.uses,
        calmer=e.calmer,
        estimate=e.calmer_rate.estimate,
        low=e.calmer_rate.low,
        high=e.calmer_rate.high,
        stands_out=e.stands_out,
        judgement=_judgement(e),
        summary=e.summary,
    )


def _by_strategy(scope: PupilScope, judged: Sequence[StrategyEffect]) -> DisclosedTable:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in judged:
        counts[e.strategy_name][0] += 1
        counts[e.strategy_name][1] += int(e.stands_out)
    names = sorted(counts)
    return count_table(
        scope,
        [counts[n] for n in names] or [[0, 0]],
        row_labels=tuple(names) or ("no strategy judged yet",),
        column_labels=(CHILDREN_JUDGED, CHILDREN_STOOD_OUT),
        unit="children",
    )


def _by_area(
    scope: PupilScope, judged: Sequence[StrategyEffect], needs: dict[str, str]
) -> tuple[DisclosedTable, DisclosedTable | None]:
    judged_children: dict[str, set[str]] = defaultdict(set)
    stood_children: dict[str, set[str]] = defaultdict(set)
    stood: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e in judged:
        area = needs.get(e.pupil_key, "No primary need recorded")
        judged_children[area].add(e.pupil_key)
        if e.stands_out:
            stood_children[area].add(e.pupil_key)
            stood[(e.strategy_name, area)].add(e.pupil_key)
    areas = sorted(judged_children)
    # Distinct children per cell: a child judged on several strategies counts once.
    by_area = count_table(
        scope,
        [[len(judged_children[a]), len(stood_children[a])] for a in areas] or [[0, 0]],
        row_labels=tuple(areas) or ("no strategy judged yet",),
        column_labels=("children with a strategy judged", "children for whom one stood out"),
        unit="children",
    )
    strategies = sorted({s for s, _ in stood})
    if not strategies:
        return by_area, None
    table = count_table(
        scope,
        [[len(stood[(s, a)]) for a in areas] for s in strategies],
        row_labels=tuple(strategies),
        column_labels=tuple(areas),
        unit="children",
    )
    return by_area, table


def _by_weekday(
    scope: PupilScope, incidents: Sequence[dict[str, object]], slots: Sequence[tuple[int, str]]
) -> tuple[DisclosedTable, tuple[tuple[str, ...], ...]]:
    index = {s: i for i, (s, _) in enumerate(slots)}
    counts = np.zeros((max(len(slots), 1), len(WEEKDAYS)), dtype=np.int64)
    for i in incidents:
        slot, weekday = i["time_slot"], i["iso_weekday"]
        if isinstance(slot, int) and isinstance(weekday, int) and slot in index:
            if 1 <= weekday <= len(WEEKDAYS):
                counts[index[slot], weekday - 1] += 1
    table = count_table(
        scope,
        counts,
        row_labels=tuple(label for _, label in slots) or ("no timetable",),
        column_labels=WEEKDAYS,
        unit="incidents",
    )
    top = max(
        (int(c) for c, h in zip(counts.flat, table.hidden.flat, strict=True) if not h), default=0
    )
    shade = tuple(
        tuple(
            SHADES[0 if table.hidden[i, j] or not top else min(3, -(-3 * int(counts[i, j]) // top))]
            for j in range(counts.shape[1])
        )
        for i in range(counts.shape[0])
    )
    return table, shade


def _grid(
    con: duckdb.DuckDBPyConnection,
    urn: str,
    as_of: date,
    incidents: Sequence[dict[str, object]],
    slots: Sequence[tuple[int, str]],
) -> Chart:
    found = queries.rows(con, "school_days", school_urn=urn, as_of=as_of, days=SCATTERPLOT_DAYS)
    days = sorted(d for d in (_day(r["date_day"]) for r in found) if d is not None)
    rows = [{"time_slot": i["time_slot"], "occurred_on": _day(i["occurred_on"])} for i in incidents]
    grid: Scatterplot = scatterplot(rows, days=days, slots=slots)
    # Across several children no slot is flagged (the flag is a per-child test), so the
    # summary says what the chart is rather than "nothing stands out".
    grid = replace(
        grid,
        summary=(
            f"{count_phrase(int(grid.counts.sum()), 'incident')} over the latest "
            f"{count_phrase(len(days), 'school day')}, for the pupils shown."
        ),
    )
    return scatterplot_grid("When incidents happened, by time of day and school day", grid)


def _standing(h: StandingSituation, names: dict[str, str]) -> SlotStandsOut:
    return SlotStandsOut(h.pupil_key, names.get(h.pupil_key), h.summary)
