"""When and where are things harder for a child? Context rates, ABC and the scatterplot.

A context (a time slot, lesson period, weekday, activity or setting) is compared with the
rest of the same child's time in school: incidents per hour there against incidents per hour
everywhere else, as a Poisson rate ratio with exposure (the hours the child spent there;
``marts.behaviour_context_rate`` says how those hours were counted). Every context of every
child in a school is tested together under false-discovery control, so a "harder" context
means more than the chance unevenness of small counts. Reading a scatterplot by eye is
unreliable (ANALYTICS.md section 2), which is why the flag is statistical.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import numpy as np
from scipy import stats

from empowered.analytics import queries
from empowered.analytics.aggregates import multi_pupil
from empowered.analytics.disclosure import DisclosedTable, suppress
from empowered.analytics.proportions import Proportion, wilson
from empowered.analytics.rates import RateRatio, rate_ratio
from empowered.analytics.wording import count_phrase, number, percent, percent_range

FALSE_DISCOVERY_RATE = 0.05
MIN_INCIDENTS_IN_CONTEXT = 3
MIN_INCIDENTS_FOR_CHILD = 5
MIN_RATE_RATIO = 1.5  # smaller differences are not worth a conversation on their own
DIMENSION_WORDS = {
    "time_slot": "time of day",
    "period": "lesson period",
    "weekday": "day of the week",
    "activity": "activity",
    "setting": "place",
}


@dataclass(frozen=True)
class ContextRate:
    """One row of ``marts.behaviour_context_rate``."""

    pupil_key: str
    school_urn: str
    academic_year: str
    dimension: str
    value: str
    label: str
    incidents: int
    exposure_hours: float
    total_incidents: int
    total_exposure_hours: float


@dataclass(frozen=True)
class HarderSituation:
    pupil_key: str
    school_urn: str
    academic_year: str
    dimension: str
    value: str
    label: str
    incidents: int
    exposure_hours: float
    other_incidents: int
    other_exposure_hours: float
    comparison: RateRatio
    stands_out: bool
    summary: str


def rates_from_rows(rows: Iterable[dict[str, Any]]) -> list[ContextRate]:
    return [
        ContextRate(
            str(r["pupil_key"]),
            str(r["school_urn"]),
            str(r["academic_year"]),
            str(r["context_dimension"]),
            str(r["context_value"]),
            str(r["context_label"]),
            int(r["incidents"] or 0),
            float(r["exposure_hours"] or 0.0),
            int(r["total_incidents"] or 0),
            float(r["total_exposure_hours"] or 0.0),
        )
        for r in rows
    ]


def harder_situations(
    rates: Sequence[ContextRate],
    *,
    false_discovery_rate: float = FALSE_DISCOVERY_RATE,
    min_incidents: int = MIN_INCIDENTS_IN_CONTEXT,
    min_rate_ratio: float = MIN_RATE_RATIO,
) -> list[HarderSituation]:
    """Every context with enough incidents to compare, each against the child's other time.

    Pass a whole school's rows together: the false-discovery control is over all of them.
    """
    candidates = [
        r
        for r in rates
        if r.total_incidents >= MIN_INCIDENTS_FOR_CHILD
        and r.incidents >= min_incidents
        and r.exposure_hours > 0
        and r.total_exposure_hours - r.exposure_hours > 0
    ]
    comparisons = [
        rate_ratio(
            r.incidents,
            r.exposure_hours,
            r.total_incidents - r.incidents,
            r.total_exposure_hours - r.exposure_hours,
            alternative="larger",
        )
        for r in candidates
    ]
    if not candidates:
        return []
    adjusted = stats.false_discovery_control([c.p_value for c in comparisons], method="bh")
    out = []
    for r, c, q in zip(candidates, comparisons, adjusted, strict=True):
        stands_out = bool(q <= false_discovery_rate and c.ratio >= min_rate_ratio)
        out.append(
            HarderSituation(
                pupil_key=r.pupil_key,
                school_urn=r.school_urn,
                academic_year=r.academic_year,
                dimension=r.dimension,
                value=r.value,
                label=r.label,
                incidents=r.incidents,
                exposure_hours=r.exposure_hours,
                other_incidents=r.total_incidents - r.incidents,
                other_exposure_hours=r.total_exposure_hours - r.exposure_hours,
                comparison=c,
                stands_out=stands_out,
                summary=_summary(r, c, stands_out),
            )
        )
    return out


def _summary(r: ContextRate, c: RateRatio, stands_out: bool) -> str:
    where = f"{DIMENSION_WORDS.get(r.dimension, r.dimension)} {r.label}"
    here = r.incidents / r.exposure_hours
    other_hours = r.total_exposure_hours - r.exposure_hours
    there = (r.total_incidents - r.incidents) / other_hours
    text = (
        f"In {where}: {count_phrase(r.incidents, 'incident')} in about "
        f"{number(r.exposure_hours, 0)} hours ({number(here, 2)} an hour), against "
        f"{number(there, 2)} an hour at other times"
    )
    if np.isfinite(c.ratio):
        text += (
            f", about {number(c.ratio)} times as often (likely {number(c.low)} to "
            f"{number(c.high)} times)."
        )
    else:
        text += "."
    if stands_out:
        text += " More than chance would explain: a situation worth looking at together."
    return text


def load_harder_situations(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> list[HarderSituation]:
    rows = queries.rows(con, "context_rates", school_urn=school_urn, pupil_key=None)
    return harder_situations(rates_from_rows(rows))


# -- ABC: what tends to come before a behaviour ---------------------------------------


@dataclass(frozen=True)
class AfterAntecedent:
    antecedent: str
    behaviour: str
    given: Proportion  # times this behaviour followed this antecedent, of all after it
    usual: Proportion  # this behaviour among all the child's incidents
    summary: str


def behaviour_after_antecedent(
    incidents: Sequence[dict[str, Any]], *, min_times: int = 3
) -> list[AfterAntecedent]:
    """P(behaviour | antecedent) beside the child's usual share of that behaviour.

    ``incidents`` are one child's rows from ``marts.behaviour_incident``.
    """
    known = [i for i in incidents if i.get("antecedent") and i.get("behaviour")]
    if not known:
        return []
    by_antecedent: dict[str, Counter[str]] = defaultdict(Counter)
    overall: Counter[str] = Counter()
    for i in known:
        by_antecedent[str(i["antecedent"])][str(i["behaviour"])] += 1
        overall[str(i["behaviour"])] += 1
    out = []
    for antecedent, behaviours in sorted(by_antecedent.items()):
        n = sum(behaviours.values())
        if n < min_times:
            continue
        for behaviour, k in behaviours.most_common():
            given = wilson(k, n)
            usual = wilson(overall[behaviour], len(known))
            out.append(
                AfterAntecedent(
                    antecedent,
                    behaviour,
                    given,
                    usual,
                    f"After {_words(antecedent)}, {_words(behaviour)} {k} of {n} times "
                    f"({percent(given.estimate)}, {percent_range(given.low, given.high)}), "
                    f"against {percent(usual.estimate)} of all this child's incidents.",
                )
            )
    return out


def _words(code: str) -> str:
    return code.replace("_", " ")


# -- The scatterplot (Touchette 1985): time slots down, school days across -------------


@dataclass(frozen=True)
class Scatterplot:
    slots: tuple[int, ...]
    slot_labels: tuple[str, ...]
    days: tuple[date, ...]
    counts: np.ndarray  # slots x days
    flagged_slots: tuple[int, ...]  # slots whose rate stands out for this child
    summary: str


def scatterplot(
    incidents: Sequence[dict[str, Any]],
    *,
    days: Sequence[date],
    slots: Sequence[tuple[int, str]],
    harder: Sequence[HarderSituation] = (),
) -> Scatterplot:
    """Counts of one child's incidents by time slot and school day.

    The statistical flag comes from :func:`harder_situations` on the ``time_slot``
    dimension, because shading alone invites reading patterns into noise.
    """
    slot_index = {s: i for i, (s, _) in enumerate(slots)}
    day_index = {d: j for j, d in enumerate(days)}
    counts = np.zeros((len(slots), len(days)), dtype=np.int64)
    for i in incidents:
        s, d = i.get("time_slot"), i.get("occurred_on")
        if s in slot_index and d in day_index:
            counts[slot_index[s], day_index[d]] += 1
    flagged = tuple(int(h.value) for h in harder if h.dimension == "time_slot" and h.stands_out)
    labels = dict(slots)
    if flagged:
        names = ", ".join(labels.get(s, str(s)) for s in flagged)
        summary = (
            f"{count_phrase(int(counts.sum()), 'incident')} over "
            f"{count_phrase(len(days), 'school day')}; more often than at other times "
            f"around {names}."
        )
    else:
        summary = (
            f"{count_phrase(int(counts.sum()), 'incident')} over "
            f"{count_phrase(len(days), 'school day')}; no time of day stands out."
        )
    return Scatterplot(
        tuple(s for s, _ in slots),
        tuple(lbl for _, lbl in slots),
        tuple(days),
        counts,
        flagged,
        summary,
    )


@dataclass(frozen=True)
class HarderAcrossSchool:
    table: DisclosedTable  # dimension of context x children for whom a context stood out
    summary: str


@multi_pupil
def harder_across_school(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> HarderAcrossSchool:
    """How many children have a harder time of day, period, day, activity or place."""
    found = [h for h in load_harder_situations(con, school_urn=school_urn) if h.stands_out]
    children: dict[str, set[str]] = defaultdict(set)
    for h in found:
        children[h.dimension].add(h.pupil_key)
    dims = list(DIMENSION_WORDS)
    table = suppress(
        [len(children[d]) for d in dims],
        row_labels=tuple(DIMENSION_WORDS[d] for d in dims),
        column_labels=("children with a harder situation",),
        unit="children",
    )
    total = len({h.pupil_key for h in found})
    summary = (
        "Fewer than 5 children have a situation that stands out."
        if 0 < total < 5
        else f"{count_phrase(total, 'child', 'children')} have at least one situation that "
        "stands out as harder than the rest of their day."
    )
    return HarderAcrossSchool(table, summary)
