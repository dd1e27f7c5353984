"""What helps: the short-term effect of each support strategy for each child.

Each use is paired (in the ``marts.strategy_use_outcome`` mart) with the child's mood at
the use and at the next check-in within an hour. For one child and one strategy we ask two
questions, both against the same child's other strategies, never against other children:

* how often was the next check-in calmer? A small count ("2 of 2") is shrunk towards the
  child's own overall rate with an empirical-Bayes beta-binomial prior, so a lucky streak
  never tops a list;
* did mood improve more after this strategy than after the child's others? Non-overlap of
  all pairs (NAP) of the mood changes, with its interval, describes it; a one-sided test of
  the mood at the next check-in, allowing for the mood at the use, judges it. The tests of
  every child's strategies in a school are read together under the Benjamini-Hochberg
  false-discovery control, so "stands out" stays rare by chance.

Nothing here decides: a strategy that "stands out" is worth talking about, not a verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from empowered.analytics import queries
from empowered.analytics.aggregates import multi_pupil
from empowered.analytics.disclosure import DisclosedTable, suppress
from empowered.analytics.shrinkage import BetaPrior, ShrunkRate, fit_beta_prior, shrink_rate
from empowered.analytics.single_case import NonOverlap, nap
from empowered.analytics.wording import count_phrase, percent, percent_range

MIN_USES = 10  # uses with a follow-up check-in before a strategy is judged
MIN_OTHER_USES = 5  # uses of the child's other strategies to compare with
FALSE_DISCOVERY_RATE = 0.05
DEFAULT_PRIOR_STRENGTH = 10.0


@dataclass(frozen=True)
class UsePair:
    """One use of a strategy with the child's mood at the use and at the next check-in."""

    pupil_key: str
    school_urn: str
    strategy_code: str
    strategy_name: str
    mood_at_use: float
    mood_next: float

    @property
    def change(self) -> float:
        return self.mood_next - self.mood_at_use


@dataclass(frozen=True)
class StrategyEffect:
    pupil_key: str
    school_urn: str
    strategy_code: str
    strategy_name: str
    uses: int  # uses with a check-in at the use and after it
    calmer: int
    calmer_rate: ShrunkRate  # shrunk towards the child's own overall rate
    child_rate: float  # calmer share over all the child's strategies
    other_uses: int
    mean_change: float
    other_mean_change: float | None
    nonoverlap: NonOverlap | None  # this strategy's changes against the child's others
    p_value: float | None  # one-sided rank test, before false-discovery control
    stands_out: bool
    not_enough: str | None  # why there is too little to judge, else None
    summary: str


def pairs_from_rows(rows: Iterable[dict[str, Any]]) -> list[UsePair]:
    return [
        UsePair(
            str(r["pupil_key"]),
            str(r["school_urn"]),
            str(r["strategy_code"]),
            str(r["strategy_name"]),
            float(r["mood_at_use"]),
            float(r["mood_next"]),
        )
        for r in rows
    ]


def strategy_effects(
    pairs: Sequence[UsePair],
    *,
    min_uses: int = MIN_USES,
    min_other_uses: int = MIN_OTHER_USES,
    false_discovery_rate: float = FALSE_DISCOVERY_RATE,
) -> list[StrategyEffect]:
    """One result per child and strategy used, judged against the child's other strategies.

    Pass every use in a school (or trust) together, even when one child is wanted: the
    false-discovery control and the shrinkage prior's strength come from all of them, so a
    child's result does not depend on who is asking.
    """
    # scipy takes over a second to import: loaded on first use, not at server start.
    from scipy import stats

    by_pupil: dict[tuple[str, str], dict[str, list[UsePair]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for p in pairs:
        by_pupil[(p.school_urn, p.pupil_key)][p.strategy_code].append(p)

    strength = _prior_strength(by_pupil.values())
    drafts: list[dict[str, Any]] = []
    for (school, pupil), strategies in sorted(by_pupil.items()):
        all_uses = [u for uses in strategies.values() for u in uses]
        child_rate = _calmer_share(all_uses)
        prior = _centred_prior(child_rate, strength)
        for code, uses in sorted(strategies.items()):
            others = [u for c, us in strategies.items() if c != code for u in us]
            draft = _assess(school, pupil, code, uses, others, child_rate, prior)
            if len(uses) >= min_uses and len(others) >= min_other_uses:
                draft["p_value"] = _adjusted_test(uses, others)
            drafts.append(draft)

    tested = [d for d in drafts if d["p_value"] is not None]
    if tested:
        adjusted = stats.false_discovery_control([d["p_value"] for d in tested], method="bh")
        for d, q in zip(tested, adjusted, strict=True):
            d["stands_out"] = bool(q <= false_discovery_rate and d["mean_change"] > d["other"])
    results = []
    for d in drafts:
        d.setdefault("stands_out", False)
        results.append(_finish(d, min_uses, min_other_uses))
    return results


def _calmer_share(uses: Sequence[UsePair]) -> float:
    return sum(u.change > 0 for u in uses) / len(uses) if uses else float("nan")


def _prior_strength(children: Iterable[dict[str, list[UsePair]]]) -> float:
    """How many uses' worth the child's own rate counts for, fitted over all pairs.

    The beta-binomial fit across every child-strategy pair measures how much strategies
    really differ; its strength (alpha + beta) is reused around each child's own rate.
    """
    successes, trials = [], []
    for strategies in children:
        for uses in strategies.values():
            successes.append(sum(u.change > 0 for u in uses))
            trials.append(len(uses))
    if len(trials) < 3:
        return DEFAULT_PRIOR_STRENGTH
    fitted = fit_beta_prior(np.array(successes), np.array(trials))
    return float(min(max(fitted.strength, 2.0), 200.0))


def _centred_prior(rate: float, strength: float) -> BetaPrior:
    mean = min(max(rate if rate == rate else 0.5, 0.02), 0.98)
    return BetaPrior(
        alpha=mean * strength, beta=(1 - mean) * strength, mean=mean, strength=strength
    )


def _assess(
    school: str,
    pupil: str,
    code: str,
    uses: list[UsePair],
    others: list[UsePair],
    child_rate: float,
    prior: BetaPrior,
) -> dict[str, Any]:
    changes = np.array([u.change for u in uses])
    other_changes = np.array([u.change for u in others])
    calmer = int((changes > 0).sum())
    d: dict[str, Any] = {
        "school": school,
        "pupil": pupil,
        "code": code,
        "name": uses[0].strategy_name,
        "uses": len(uses),
        "calmer": calmer,
        "rate": shrink_rate(calmer, len(uses), prior),
        "child_rate": child_rate,
        "other_uses": len(others),
        "others_rate": _calmer_share(others),
        "mean_change": float(changes.mean()),
        "other": float(other_changes.mean()) if len(others) else None,
        "nonoverlap": None,
        "p_value": None,
    }
    if len(uses) >= 2 and len(others) >= 2:
        d["nonoverlap"] = nap(other_changes, changes, improvement="increase")
    return d


def _adjusted_test(uses: Sequence[UsePair], others: Sequence[UsePair]) -> float:
    """One-sided test: was mood at the next check-in higher after this strategy than after
    the child's others, comparing uses that began at the same mood?

    Mood at the use is a covariate (ordinary least squares: next ~ strategy + mood at use),
    because a use that starts very low has more room to recover; comparing like with like
    is both fairer and more sensitive than comparing raw changes. When the moods at the
    uses do not vary (the model cannot be fitted), a Mann-Whitney test of the changes is
    used instead.
    """
    from scipy import stats

    both = [*uses, *others]
    after = np.array([u.mood_next for u in both])
    design = np.column_stack(
        [
            np.ones(len(both)),
            np.r_[np.ones(len(uses)), np.zeros(len(others))],
            np.array([u.mood_at_use for u in both]),
        ]
    )
    dof = len(both) - design.shape[1]
    if np.linalg.matrix_rank(design) == design.shape[1] and dof > 0:
        coef, *_ = np.linalg.lstsq(design, after, rcond=None)
        resid = after - design @ coef
        scale = float(resid @ resid) / dof
        if scale > 0:
            se = float(np.sqrt(scale * np.linalg.inv(design.T @ design)[1, 1]))
            return float(stats.t.sf(coef[1] / se, dof))
    a = [u.change for u in uses]
    b = [u.change for u in others]
    return float(stats.mannwhitneyu(a, b, alternative="greater").pvalue)


def _finish(d: dict[str, Any], min_uses: int, min_other_uses: int) -> StrategyEffect:
    name = d["name"]
    not_enough = None
    if d["uses"] < min_uses:
        not_enough = (
            f"Not enough yet to judge {name}: {count_phrase(d['uses'], 'use')} with a "
            f"check-in before and after; at least {min_uses} are needed."
        )
    elif d["other_uses"] < min_other_uses:
        not_enough = (
            f"Not enough yet to judge {name}: it needs at least {min_other_uses} uses of "
            f"other strategies to compare with, and there are {d['other_uses']}."
        )
    rate: ShrunkRate = d["rate"]
    if not_enough:
        summary = not_enough
    else:
        summary = (
            f"About {percent(rate.estimate)} of uses of {name} were followed by a calmer "
            f"mood ({percent_range(rate.low, rate.high)}), from "
            f"{count_phrase(d['uses'], 'use')}; after this child's other strategies it was "
            f"{percent(d['others_rate'])}."
        )
        if d["stands_out"]:
            summary += (
                " Mood improved more after this strategy than after the child's others,"
                " by more than chance would explain: worth keeping in mind."
            )
    return StrategyEffect(
        pupil_key=d["pupil"],
        school_urn=d["school"],
        strategy_code=d["code"],
        strategy_name=name,
        uses=d["uses"],
        calmer=d["calmer"],
        calmer_rate=rate,
        child_rate=d["child_rate"],
        other_uses=d["other_uses"],
        mean_change=d["mean_change"],
        other_mean_change=d["other"],
        nonoverlap=d["nonoverlap"],
        p_value=d["p_value"],
        stands_out=bool(d["stands_out"]) and not_enough is None,
        not_enough=not_enough,
        summary=summary,
    )


def load_strategy_effects(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> list[StrategyEffect]:
    """Every child-strategy result in a school (or the trust when ``school_urn`` is None)."""
    return strategy_effects(
        pairs_from_rows(queries.rows(con, "strategy_uses", school_urn=school_urn))
    )


def for_pupil(effects: Sequence[StrategyEffect], pupil_key: str) -> list[StrategyEffect]:
    """One child's results, the judged ones first, best supported first."""
    mine = [e for e in effects if e.pupil_key == pupil_key]
    return sorted(mine, key=lambda e: (e.not_enough is not None, -e.calmer_rate.estimate))


@dataclass(frozen=True)
class WhatHelpsWhom:
    table: DisclosedTable  # strategies x (children judged, children for whom it stood out)
    summary: str


@multi_pupil
def what_helps_whom(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None
) -> WhatHelpsWhom:
    """Across children: for how many was each strategy judged, and for how many did it
    stand out? A pseudonymised overview, so its counts pass through suppression."""
    effects = [e for e in load_strategy_effects(con, school_urn=school_urn) if e.not_enough is None]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in effects:
        counts[e.strategy_name][0] += 1
        counts[e.strategy_name][1] += int(e.stands_out)
    names = sorted(counts)
    table = suppress(
        [counts[n] for n in names] or [[0, 0]],
        row_labels=tuple(names) or ("no strategies judged yet",),
        column_labels=("children with enough uses to judge", "children for whom it stood out"),
        unit="children",
    )
    standing = [n for n in names if counts[n][1] > 0]
    summary = (
        f"{count_phrase(len(names), 'strategy', 'strategies')} had enough uses to judge for "
        f"at least one child; "
        + (
            f"some stood out for some children: {', '.join(standing)}."
            if standing
            else "none stood out for any child beyond chance."
        )
    )
    return WhatHelpsWhom(table, summary)
