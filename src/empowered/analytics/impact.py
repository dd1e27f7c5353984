"""Did the provision work? Gains, effect sizes, cost and what to keep or review.

* Standardised scores (mean 100, SD 15): gain = post - pre (0 = kept pace with age norms);
  effect size = gain / 15, with a t interval.
* Reading or spelling ages: Brooks's ratio gain = months of age gained / months elapsed.
  Brooks (2016, "What works for children and young people with literacy difficulties?")
  reads under 1.4 as modest, 1.4-1.9 useful, 2.0-2.9 substantial, 3 or more remarkable.
* Ratings: the mean change on the school's own rating scale.
* Cost per pupil and per point gained; the EEF cost band. EEF "months of additional
  progress" only when a comparison group exists: a single group's pre/post gain is not an
  effect against what would have happened anyway, so without one it is not shown.

Averages over fewer than five pupils are withheld (ANALYTICS.md section 5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from empowered.analytics import queries
from empowered.analytics.aggregates import multi_pupil
from empowered.analytics.disclosure import THRESHOLD, DisclosedTable, suppress
from empowered.analytics.wording import count_phrase, number

SCORE_SD = 15.0
MEANINGFUL_EFFECT = 0.2  # an effect size below this is small whatever its interval
USEFUL_RATIO_GAIN = 1.4


@dataclass(frozen=True)
class Impact:
    school_urn: str
    intervention_code: str
    intervention_name: str
    measure: str
    enrolments: int
    pupils: int
    with_pre_and_post: int
    mean_gain: float | None
    gain_low: float | None
    gain_high: float | None
    effect_size: float | None  # standardised scores only
    effect_low: float | None
    effect_high: float | None
    ratio_gain: float | None  # reading/spelling ages only
    cost_per_pupil: float | None
    cost_per_point: float | None
    cost_band: str | None
    months_progress: int | None  # only with a comparison group
    verdict: str  # "keep", "review" or "too early to say"
    summary: str


def _interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    # scipy takes over a second to import: loaded on first use, not at server start.
    from scipy import stats

    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(
        stats.t.ppf(0.5 + confidence / 2, len(values) - 1)
        * values.std(ddof=1)
        / np.sqrt(len(values))
    )
    return mean, mean - half, mean + half


def cost_band(cost: float, bands: Sequence[dict[str, Any]]) -> str | None:
    for b in sorted(bands, key=lambda b: float(b["min_cost_per_pupil"])):
        top = b["max_cost_per_pupil"]
        if cost >= float(b["min_cost_per_pupil"]) and (top is None or cost < float(top)):
            return str(b["band"])
    return None


def months_of_progress(effect_difference: float, table: Sequence[dict[str, Any]]) -> int:
    """EEF months for an effect size *against a comparison group* (negative mirrored)."""
    size = round(abs(effect_difference), 2)
    for row in table:
        if float(row["min_effect_size"]) <= size <= float(row["max_effect_size"]):
            months = int(row["months"])
            return -months if effect_difference < 0 else months
    return 12 if effect_difference > 0 else -12


def intervention_impact(
    enrolments: Sequence[dict[str, Any]],
    *,
    bands: Sequence[dict[str, Any]] = (),
    comparison_effect: float | None = None,
    months_table: Sequence[dict[str, Any]] = (),
) -> Impact:
    """One intervention at one school, from its rows in ``marts.provision_enrolment``."""
    first = enrolments[0]
    measure = str(first["measure"] or "")
    name = str(first["intervention_name"])
    complete = [e for e in enrolments if e["pre_score"] is not None and e["post_score"] is not None]
    gains = np.array([float(e["post_score"]) - float(e["pre_score"]) for e in complete])
    costs = [float(e["cost_per_pupil"]) for e in enrolments if e["cost_per_pupil"] is not None]
    cost = float(np.mean(costs)) if costs else None
    pupils = len({e["pupil_key"] for e in enrolments})
    shown = len(complete) >= THRESHOLD
    mean = low = high = effect = e_low = e_high = ratio = per_point = None
    months = None
    if shown:
        mean, low, high = _interval(gains)
        if measure == "standardised_score":
            effect, e_low, e_high = mean / SCORE_SD, low / SCORE_SD, high / SCORE_SD
            if comparison_effect is not None and months_table:
                months = months_of_progress(effect - comparison_effect, months_table)
        if measure == "reading_age_months":
            ratios = [float(e["ratio_gain"]) for e in complete if e.get("ratio_gain") is not None]
            ratio = float(np.mean(ratios)) if ratios else None
        if cost is not None and mean > 0:
            per_point = cost / mean
    verdict = _verdict(measure, shown, low, effect, ratio)
    band = cost_band(cost, bands) if cost is not None and bands else None
    return Impact(
        school_urn=str(first["school_urn"]),
        intervention_code=str(first["intervention_code"]),
        intervention_name=name,
        measure=measure,
        enrolments=len(enrolments),
        pupils=pupils,
        with_pre_and_post=len(complete),
        mean_gain=mean,
        gain_low=low,
        gain_high=high,
        effect_size=effect,
        effect_low=e_low,
        effect_high=e_high,
        ratio_gain=ratio,
        cost_per_pupil=cost,
        cost_per_point=per_point,
        cost_band=band,
        months_progress=months,
        verdict=verdict,
        summary=_summary(name, measure, len(complete), mean, low, high, ratio, cost, verdict),
    )


def _verdict(
    measure: str, shown: bool, low: float | None, effect: float | None, ratio: float | None
) -> str:
    if not shown or low is None:
        return "too early to say"
    if measure == "standardised_score":
        good = effect is not None and effect >= MEANINGFUL_EFFECT and low > 0
    elif measure == "reading_age_months":
        good = ratio is not None and ratio >= USEFUL_RATIO_GAIN
    else:
        good = low > 0
    return "keep" if good else "review"


def _summary(
    name: str,
    measure: str,
    n: int,
    mean: float | None,
    low: float | None,
    high: float | None,
    ratio: float | None,
    cost: float | None,
    verdict: str,
) -> str:
    cost_text = f" It costs about £{cost:,.0f} per pupil." if cost is not None else ""
    if mean is None or low is None or high is None:
        return (
            f"{name}: {count_phrase(n, 'pupil')} with scores before and after, so no "
            f"average is shown until there are at least {THRESHOLD}.{cost_text}"
        )
    if measure == "standardised_score":
        what = (
            f"standardised scores rose by about {number(mean)} points (likely "
            f"{number(low)} to {number(high)}; 0 means keeping pace with age)"
        )
    elif measure == "reading_age_months" and ratio is not None:
        what = (
            f"reading age grew about {number(ratio)} times as fast as time passed "
            f"(a ratio gain; 1.4 or more is useful)"
        )
    else:
        what = f"ratings rose by about {number(mean)} (likely {number(low)} to {number(high)})"
    advice = {
        "keep": "The evidence supports keeping it.",
        "review": "Worth reviewing: the gain is small or uncertain.",
    }.get(verdict, "")
    intro = f"{name}: from {count_phrase(n, 'pupil')} with scores before and after"
    return f"{intro}, {what}.{cost_text} {advice}".strip()


def load_impacts(con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None) -> list[Impact]:
    """One result per school and intervention."""
    rows = queries.rows(con, "provision_enrolments", school_urn=school_urn)
    bands = queries.rows(con, "eef_cost_bands")
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        grouped[(str(r["school_urn"]), str(r["intervention_code"]))].append(r)
    return [intervention_impact(v, bands=bands) for _, v in sorted(grouped.items())]


def _verdict_list(impacts: Sequence[Impact], verdict: str) -> str:
    """Interventions with this verdict; across a trust, at how many schools (a verdict is
    per school: the same intervention can work in one and not in another)."""
    schools: dict[str, int] = defaultdict(int)
    for i in impacts:
        if i.verdict == verdict:
            schools[i.intervention_name] += 1
    several = len({i.school_urn for i in impacts}) > 1
    return ", ".join(
        f"{name} (at {count_phrase(n, 'school')})" if several else name
        for name, n in sorted(schools.items())
    )


@dataclass(frozen=True)
class ProvisionOverview:
    table: DisclosedTable  # interventions x (pupils, with scores before and after)
    impacts: tuple[Impact, ...]
    summary: str


@multi_pupil
def provision_overview(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> ProvisionOverview:
    """Reach and impact of each intervention: which to keep and which to review."""
    impacts = load_impacts(con, school_urn=school_urn)
    reach: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for i in impacts:
        reach[i.intervention_name][0] += i.pupils
        reach[i.intervention_name][1] += i.with_pre_and_post
    names = sorted(reach)
    table = suppress(
        [reach[n] for n in names] or [[0, 0]],
        row_labels=tuple(names) or ("no provision recorded yet",),
        column_labels=("pupils", "with scores before and after"),
    )
    summary = (
        f"Worth keeping on the evidence: {_verdict_list(impacts, 'keep') or 'none yet'}. "
        f"Worth reviewing: {_verdict_list(impacts, 'review') or 'none'}."
    )
    return ProvisionOverview(table, tuple(impacts), summary)
