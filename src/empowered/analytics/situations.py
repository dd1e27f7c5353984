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
MIN_MOOD_DROP = 0.5  # points on the 1-5 mood scale
MIN_DAYS_COMPARED = 8  # days with check-ins both in the context and elsewhere
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
class ContextMood:
    """One row of ``marts.wellbeing_context``: mood there and over the child's whole year."""

    pupil_key: str
    school_urn: str
    academic_year: str
    dimension: str
    value: str
    n: int
    mean: float
    sd: float
    total_n: int
    total_mean: float
    total_sd: float
    days_compared: int = 0
    day_difference: float = float("nan")  # mean over days of (here - the day's other check-ins)
    day_difference_sd: float = float("nan")

    def elsewhere(self) -> tuple[int, float, float]:
        """Count, mean and standard deviation of the child's check-ins outside the context,
        recovered from the context's and the year's (sums of squares are additive)."""
        n_out = self.total_n - self.n
        if n_out < 2:
            return n_out, float("nan"), float("nan")
        total_ss = (self.total_n - 1) * self.total_sd**2 + self.total_n * self.total_mean**2
        here_ss = (self.n - 1) * (self.sd**2 if self.n > 1 else 0.0) + self.n * self.mean**2
        mean_out = (self.total_n * self.total_mean - self.n * self.mean) / n_out
        var_out = max((total_ss - here_ss - n_out * mean_out**2) / (n_out - 1), 0.0)
        return n_out, mean_out, float(np.sqrt(var_out))


@dataclass(frozen=True)
class MoodComparison:
    here: float
    elsewhere: float
    check_ins: int
    other_check_ins: int
    days_compared: int
    day_difference: float  # average, over days, of mood here minus the day's other check-ins
    p_value: float  # one-sided paired test over days: lower here than elsewhere


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
    comparison: RateRatio | None  # incidents per hour here against elsewhere
    mood: MoodComparison | None  # mood at check-ins here against elsewhere
    stands_out: bool
    summary: str


@dataclass(frozen=True)
class StandingSituation:
    """What the pages show of a harder situation that stands out (its sentence, and its
    slot for the scatterplot's flag). A large school compares some ten thousand contexts
    and a few dozen stand out: the web cache keeps these, a few kilobytes a school, where
    every :class:`HarderSituation` took megabytes to store and a second of a restart to
    read back."""

    pupil_key: str
    academic_year: str
    dimension: str
    value: str
    summary: str

    @property
    def stands_out(self) -> bool:
        return True  # only those that stand out are kept


def standing_out(situations: Iterable[HarderSituation]) -> tuple[StandingSituation, ...]:
    """The situations that stand out, in their order, as the pages show them."""
    return tuple(
        StandingSituation(h.pupil_key, h.academic_year, h.dimension, h.value, h.summary)
        for h in situations
        if h.stands_out
    )


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


def _float(x: Any) -> float:
    return float(x) if x is not None else float("nan")


def moods_from_rows(rows: Iterable[dict[str, Any]]) -> list[ContextMood]:
    return [
        ContextMood(
            str(r["pupil_key"]),
            str(r["school_urn"]),
            str(r["academic_year"]),
            str(r["context_dimension"]),
            str(r["context_value"]),
            int(r["mood_observations"] or 0),
            _float(r["mood_mean"]),
            float(r["mood_sd"]) if r["mood_sd"] is not None else 0.0,
            int(r["total_mood_observations"] or 0),
            _float(r["total_mood_mean"]),
            float(r["total_mood_sd"]) if r["total_mood_sd"] is not None else 0.0,
            int(r["days_compared"] or 0),
            _float(r["mood_day_difference_mean"]),
            _float(r["mood_day_difference_sd"]),
        )
        for r in rows
    ]


def _mood_comparison(m: ContextMood) -> MoodComparison | None:
    """Mood here against the same day's other check-ins, tested over days.

    Check-ins on one day share that day's mood, so they are not independent: the test is a
    one-sample t test of the daily differences (a paired design), which also leaves out
    slow changes such as a decline over weeks.
    """
    # scipy takes over a second to import: loaded on first use, not at server start.
    from scipy import special

    n_out, mean_out, _ = m.elsewhere()
    k = m.days_compared
    if k < MIN_DAYS_COMPARED or not np.isfinite(m.day_difference):
        return None
    sd = m.day_difference_sd if np.isfinite(m.day_difference_sd) else 0.0
    if sd == 0:
        p = 0.0 if m.day_difference < 0 else 1.0
    else:
        # Student's t distribution function itself (what ``stats.t.cdf`` computes, without
        # its argument checking: 0.3 ms a call, ten thousand calls for a large school).
        p = float(special.stdtr(k - 1, m.day_difference / (sd / np.sqrt(k))))
    return MoodComparison(m.mean, mean_out, m.n, n_out, k, m.day_difference, p)


Key = tuple[str, str, str, str, str]


def harder_situations(
    rates: Sequence[ContextRate],
    moods: Sequence[ContextMood] = (),
    *,
    false_discovery_rate: float = FALSE_DISCOVERY_RATE,
    min_incidents: int = MIN_INCIDENTS_IN_CONTEXT,
    min_rate_ratio: float = MIN_RATE_RATIO,
    min_mood_drop: float = MIN_MOOD_DROP,
) -> list[HarderSituation]:
    """Every context with enough data to compare, each against the child's other time.

    Two kinds of evidence, each tested for every context of every child: incidents per
    hour (a Poisson rate ratio with exposure) and mood at check-ins (lower there than
    elsewhere). All the tests of a school are read together under one false-discovery
    control, so pass a whole school's rows. A context stands out when either test survives
    it *and* the difference is big enough to matter (1.5 times the incidents, or half a
    point of mood).
    """
    from scipy import stats

    by_key: dict[Key, dict[str, Any]] = {}
    for r in rates:
        if (
            r.total_incidents >= MIN_INCIDENTS_FOR_CHILD
            and r.incidents >= min_incidents
            and r.exposure_hours > 0
            and r.total_exposure_hours - r.exposure_hours > 0
        ):
            k = (r.pupil_key, r.school_urn, r.academic_year, r.dimension, r.value)
            by_key.setdefault(k, {})["rate"] = r
            by_key[k]["comparison"] = rate_ratio(
                r.incidents,
                r.exposure_hours,
                r.total_incidents - r.incidents,
                r.total_exposure_hours - r.exposure_hours,
                alternative="larger",
            )
    rate_rows = {
        (r.pupil_key, r.school_urn, r.academic_year, r.dimension, r.value): r for r in rates
    }
    for m in moods:
        lower = _mood_comparison(m)
        if lower is not None:
            k = (m.pupil_key, m.school_urn, m.academic_year, m.dimension, m.value)
            by_key.setdefault(k, {})["mood"] = lower
            if k in rate_rows:
                by_key[k].setdefault("rate", rate_rows[k])
    tests = [
        (k, kind, entry[kind].p_value)
        for k, entry in by_key.items()
        for kind in ("comparison", "mood")
        if kind in entry
    ]
    if not tests:
        return []
    adjusted = stats.false_discovery_control([p for _, _, p in tests], method="bh")
    passed: dict[Key, set[str]] = defaultdict(set)
    for (k, kind, _), q in zip(tests, adjusted, strict=True):
        if q <= false_discovery_rate:
            passed[k].add(kind)
    out = []
    for k, entry in sorted(by_key.items()):
        rate: ContextRate | None = entry.get("rate")
        comparison: RateRatio | None = entry.get("comparison")
        mood: MoodComparison | None = entry.get("mood")
        stands_out = bool(
            (
                "comparison" in passed[k]
                and comparison is not None
                and comparison.ratio >= min_rate_ratio
            )
            or ("mood" in passed[k] and mood is not None and -mood.day_difference >= min_mood_drop)
        )
        label = rate.label if rate is not None else k[4]
        incidents = rate.incidents if rate else 0
        hours = rate.exposure_hours if rate else 0.0
        out.append(
            HarderSituation(
                pupil_key=k[0],
                school_urn=k[1],
                academic_year=k[2],
                dimension=k[3],
                value=k[4],
                label=label,
                incidents=incidents,
                exposure_hours=hours,
                other_incidents=(rate.total_incidents - incidents) if rate else 0,
                other_exposure_hours=(rate.total_exposure_hours - hours) if rate else 0.0,
                comparison=comparison,
                mood=mood,
                stands_out=stands_out,
                summary=_summary(k[3], label, rate, comparison, mood, stands_out),
            )
        )
    return out


def _summary(
    dimension: str,
    label: str,
    rate: ContextRate | None,
    c: RateRatio | None,
    mood: MoodComparison | None,
    stands_out: bool,
) -> str:
    where = f"{DIMENSION_WORDS.get(dimension, dimension)} {label}"
    parts = []
    if rate is not None and c is not None and rate.exposure_hours > 0:
        here = rate.incidents / rate.exposure_hours
        there = (rate.total_incidents - rate.incidents) / (
            rate.total_exposure_hours - rate.exposure_hours
        )
        text = (
            f"{count_phrase(rate.incidents, 'incident')} in about "
            f"{number(rate.exposure_hours, 0)} hours ({number(here, 2)} an hour), against "
            f"{number(there, 2)} an hour at other times"
        )
        if np.isfinite(c.ratio):
            text += (
                f", about {number(c.ratio)} times as often (likely {number(c.low)} to "
                f"{number(c.high)} times)"
            )
        parts.append(text)
    if mood is not None:
        parts.append(
            f"mood at check-ins averaged {number(mood.here)} here against "
            f"{number(mood.elsewhere)} elsewhere (1 to 5 scale); on the same day it was "
            f"{number(abs(mood.day_difference))} "
            f"{'lower' if mood.day_difference < 0 else 'higher'} here on average, over "
            f"{count_phrase(mood.days_compared, 'day')}"
        )
    text = f"In {where}: " + "; ".join(parts) + "."
    if stands_out:
        text += " More than chance would explain: a situation worth looking at together."
    return text


def load_harder_situations(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> list[HarderSituation]:
    rows = queries.rows(con, "context_rates", school_urn=school_urn, pupil_key=None)
    moods = queries.rows(con, "context_moods", school_urn=school_urn, pupil_key=None)
    return harder_situations(rates_from_rows(rows), moods_from_rows(moods))


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
    harder: Sequence[HarderSituation | StandingSituation] = (),
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
