"""Early signs that a child may need more support, each against the child's own usual.

* Mood and engagement: an EWMA chart of the daily average, standardised against the child's
  own history up to ten observed days before (so a change is not absorbed into the baseline
  while it is happening). It needs 20 observed days before it says anything.
* Attendance: a Bernoulli CUSUM over sessions, comparing absence with the child's own rate
  so far (lagged the same way and steadied by the school's rate), that signals when recent
  sessions are much likelier under "about three times the usual absence" than under the
  usual.
  Where the school sends per-pupil summaries instead of marks, each summary period is one
  step of the same test against the child's earlier periods (:func:`summary_attendance_alerts`).
* Behaviour: incidents in the last two school weeks against the child's earlier rate.
* Attainment: a fall of half a standard deviation (7.5 points) between two standardised
  tests.

Each fired indicator is shown separately with the data behind it, and the count of
indicators that fired is shown beside them: never one combined score, never a label.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np

from empowered.analytics import queries
from empowered.analytics.control_charts import ewma
from empowered.analytics.wording import count_phrase, day_text, number

INDICATORS = ("attendance", "mood", "engagement", "behaviour", "attainment")
MIN_BASELINE_DAYS = 20
BASELINE_LAG = 10  # observed days kept out of the baseline, so a change is not absorbed
EWMA_LAMBDA = 0.2
EWMA_LIMIT = 3.3  # in standard errors; 3.3 keeps false alerts well under one a term
MIN_SIGMA = 0.25  # a child whose mood never varies must not make every dip an alert
QUIET_DAYS = 10  # observed days without a signal before a new alert can start
ATTENDANCE_H = 6.0  # CUSUM decision limit (log-likelihood ratio)
ATTENDANCE_PRIOR_SESSIONS = 40.0
ATTAINMENT_DROP = 7.5  # points on a mean-100, SD-15 scale: half a standard deviation
WORTH = "Worth a conversation."


@dataclass(frozen=True)
class Alert:
    """One episode of an early-sign indicator: from its first signal until it settled."""

    pupil_key: str
    school_urn: str
    indicator: str
    rule: str
    started_on: date
    last_signal_on: date
    baseline: float  # the child's usual level when it first signalled
    recent: float  # the level over the recent days that made it signal
    points: int  # observations the baseline rests on
    summary: str
    # The figures at the episode's latest signal, for a page that names a window ending
    # after it began ("in the 28 days to ..."): its evidence must lie in that window.
    latest: str = ""


@dataclass(frozen=True)
class Series:
    pupil_key: str
    school_urn: str
    days: list[date]
    values: np.ndarray


def _episodes(signal_days: Sequence[int], quiet: int) -> list[tuple[int, int]]:
    """Group signal positions into episodes separated by ``quiet`` signal-free points."""
    episodes: list[tuple[int, int]] = []
    for i in signal_days:
        if episodes and i - episodes[-1][1] <= quiet:
            episodes[-1] = (episodes[-1][0], i)
        else:
            episodes.append((i, i))
    return episodes


def level_alerts(
    series: Series,
    *,
    indicator: str,
    lam: float = EWMA_LAMBDA,
    limit: float = EWMA_LIMIT,
    min_baseline: int = MIN_BASELINE_DAYS,
    lag: int = BASELINE_LAG,
) -> list[Alert]:
    """Falls in a daily average (mood, engagement) below the child's own usual level."""
    x = np.asarray(series.values, dtype=float)
    n = len(x)
    if n <= min_baseline:
        return []
    csum = np.concatenate([[0.0], np.cumsum(x)])
    csq = np.concatenate([[0.0], np.cumsum(x * x)])
    t = np.arange(min_baseline, n)
    upto = np.maximum(t - lag, min_baseline)  # baseline = x[:upto]
    mean = csum[upto] / upto
    var = np.maximum(csq[upto] / upto - mean**2, 0.0) * upto / (upto - 1)
    sigma = np.maximum(np.sqrt(var), MIN_SIGMA)
    standardised = (x[min_baseline:] - mean) / sigma
    chart = ewma(standardised, target=0.0, sigma=1.0, lam=lam, L=limit, direction="lower")

    def level_at(i: int) -> tuple[float, float]:
        # The usual level, and the weighted recent average the chart itself crossed, back
        # in mood points.
        base = float(mean[i])
        return base, base + float(chart.z[i]) * float(sigma[i])

    alerts = []
    for first, last in _episodes([int(i) for i in chart.signals], QUIET_DAYS):
        at = first + min_baseline
        base, recent = level_at(first)
        word = indicator
        end_base, end_recent = level_at(last)
        latest = (
            f"{word.capitalize()} was lower than usual for this child on "
            f"{day_text(series.days[last + min_baseline])}: a recent weighted average of about "
            f"{number(end_recent)} on the 1 to 5 scale, against a usual {number(end_base)} "
            f"over {count_phrase(int(upto[last]), 'earlier day')}"
        )
        if last != first:
            latest += f"; lower than usual since {day_text(series.days[at])}"
        alerts.append(
            Alert(
                series.pupil_key,
                series.school_urn,
                indicator,
                # Staff read this: the method's settings (lam, limit) stay in the code.
                f"{word} below the child's usual level: the recent check-ins, with the "
                "latest counting most, fell further below it than ordinary ups and downs "
                "explain",
                series.days[at],
                series.days[last + min_baseline],
                base,
                recent,
                int(upto[first]),
                f"{word.capitalize()} has been lower than usual for this child since "
                f"{day_text(series.days[at])}: a recent weighted average of about "
                f"{number(recent)} on the 1 to 5 scale, against a usual {number(base)} over "
                f"{count_phrase(int(upto[first]), 'earlier day')}. {WORTH}",
                f"{latest}. {WORTH}",
            )
        )
    return alerts


@dataclass(frozen=True)
class AttendanceDays:
    pupil_key: str
    school_urn: str
    days: list[date]
    possible: np.ndarray
    absent: np.ndarray
    unauthorised: np.ndarray | None = None


def _bernoulli_cusum(
    events: np.ndarray,
    possible: np.ndarray,
    *,
    prior_rate: float,
    prior_sessions: float,
    lag: int,
    start: int,
    h: float,
    min_shift: float,
) -> dict[int, float]:
    """Days on which a Bernoulli CUSUM signalled, with the baseline rate in force then.

    The baseline is the child's own rate up to ``lag`` days before, steadied by
    ``prior_sessions`` sessions at ``prior_rate``; the alternative is three times that rate
    (at least ``min_shift`` more). The sum restarts after each signal.
    """
    cev = np.concatenate([[0.0], np.cumsum(events)])
    cpo = np.concatenate([[0.0], np.cumsum(possible)])
    # Each day's baseline and step, for all days at once (the same arithmetic, day by
    # day, in numpy); only the running sum, which restarts after a signal, is a loop, over
    # plain floats: a large school's charts took two seconds in numpy scalars.
    days = np.arange(start, len(possible))
    j = np.maximum(days - lag, 0)
    p0 = (cev[j] + prior_rate * prior_sessions) / (cpo[j] + prior_sessions)
    p0 = np.minimum(np.maximum(p0, 0.01), 0.6)
    p1 = np.minimum(np.maximum(3 * p0, p0 + min_shift), 0.95)
    ev, po = events[days], possible[days]
    steps = ev * np.log(p1 / p0) + (po - ev) * np.log((1 - p1) / (1 - p0))
    signals: dict[int, float] = {}
    c = 0.0
    for i, step, base in zip(days.tolist(), steps.tolist(), p0.tolist(), strict=True):
        c = max(0.0, c + step)
        if c > h:
            signals[i] = base
            c = 0.0
    return signals


def attendance_alerts(
    att: AttendanceDays,
    *,
    prior_rate: float,
    prior_unauthorised_rate: float | None = None,
    h: float = ATTENDANCE_H,
    prior_sessions: float = ATTENDANCE_PRIOR_SESSIONS,
    lag: int = BASELINE_LAG,
    min_days: int = MIN_BASELINE_DAYS,
) -> list[Alert]:
    """Absence rising well above the child's own usual (Bernoulli CUSUM over sessions).

    Two charts run side by side: all absence, and unauthorised absence. Most absence is
    illness, so a week off sick moves the first chart; unauthorised absence is rarer, so a
    run of it stands out sooner on the second, and it is the kind that most often comes
    before a child drifting away from school.
    """
    possible = np.asarray(att.possible, dtype=float)
    absent = np.asarray(att.absent, dtype=float)
    n = len(possible)
    if n <= min_days:
        return []

    def chart(events: np.ndarray, rate: float, min_shift: float) -> dict[int, float]:
        return _bernoulli_cusum(
            events,
            possible,
            prior_rate=rate,
            prior_sessions=prior_sessions,
            lag=lag,
            start=min_days,
            h=h,
            min_shift=min_shift,
        )

    overall = chart(absent, prior_rate, 0.2)
    unauthorised: dict[int, float] = {}
    if att.unauthorised is not None and prior_unauthorised_rate is not None:
        unauthorised = chart(
            np.asarray(att.unauthorised, dtype=float), prior_unauthorised_rate, 0.15
        )
    cpo = np.concatenate([[0.0], np.cumsum(possible)])
    cab = np.concatenate([[0.0], np.cumsum(absent)])

    def missed_to(i: int) -> tuple[int, int, float, str]:
        """Sessions missed and offered in the 10 school days to day i, the usual rate
        then, and the sentence saying so."""
        lo = max(i - 9, 0)
        missed = int(absent[lo : i + 1].sum())
        offered = int(possible[lo : i + 1].sum())
        j = max(i - lag, 0)
        usual = (cab[j] + prior_rate * prior_sessions) / (cpo[j] + prior_sessions)
        text = (
            f"Missed {missed} of {offered} sessions in the 10 school days to "
            f"{day_text(att.days[i])}, against a usual "
            f"{number(100 * usual, 0)}% of sessions missed"
        )
        if att.unauthorised is not None:
            unauth = int(np.asarray(att.unauthorised)[lo : i + 1].sum())
            text += f"; {unauth} of the missed sessions were unauthorised"
        return missed, offered, float(usual), text

    alerts = []
    for first, last in _episodes(sorted(set(overall) | set(unauthorised)), QUIET_DAYS):
        missed, offered, usual, text = missed_to(first)
        j = max(first - lag, 0)
        which = "unauthorised absence" if first not in overall else "absence"
        latest = missed_to(last)[3]
        if last != first:
            latest += f"; absence has been above the usual since {day_text(att.days[first])}"
        alerts.append(
            Alert(
                att.pupil_key,
                att.school_urn,
                "attendance",
                f"{which} well above the child's usual rate: small rises, added up session by "
                "session, came to more than chance explains",
                att.days[first],
                att.days[last],
                float(usual),
                missed / max(offered, 1),
                int(cpo[j]),
                f"{text}. {WORTH}",
                f"{latest}. {WORTH}",
            )
        )
    return alerts


@dataclass(frozen=True)
class SummaryPeriod:
    """A period a school's attendance summary covers, for a pupil with no marks then."""

    start: date
    end: date
    possible: int
    absent: int


def summary_attendance_alerts(
    pupil_key: str,
    school_urn: str,
    periods: Sequence[SummaryPeriod],
    *,
    prior_rate: float,
    h: float = ATTENDANCE_H,
    prior_sessions: float = ATTENDANCE_PRIOR_SESSIONS,
    min_sessions: int = 2 * MIN_BASELINE_DAYS,
) -> list[Alert]:
    """Absence in a summary period well above the child's own usual, for a school that
    sends summaries instead of session marks.

    The question is the session chart's (:func:`attendance_alerts`): are the period's
    sessions much likelier under about three times the usual absence than under the
    usual? A summary says only how many sessions were missed in the period, so the period
    is one step of the chart: its log-likelihood ratio against the same decision limit.
    The usual is the child's earlier periods (at least ``min_sessions`` possible, as the
    session chart waits for 20 days), steadied by the school's rate as there.
    """
    alerts = []
    before_possible = before_absent = 0
    for period in sorted(periods, key=lambda p: (p.end, p.start)):
        if before_possible >= min_sessions and period.possible > 0:
            p0 = (before_absent + prior_rate * prior_sessions) / (before_possible + prior_sessions)
            p0 = min(max(p0, 0.01), 0.6)
            p1 = min(max(3 * p0, p0 + 0.2), 0.95)
            missed, offered = period.absent, period.possible
            llr = missed * math.log(p1 / p0) + (offered - missed) * math.log((1 - p1) / (1 - p0))
            if llr > h:
                alerts.append(
                    Alert(
                        pupil_key,
                        school_urn,
                        "attendance",
                        "absence in a summary period well above the child's usual rate "
                        "(the same test as over sessions, one step per period)",
                        period.end,
                        period.end,
                        p0,
                        missed / offered,
                        before_possible,
                        f"Missed {missed} of {offered} sessions from {day_text(period.start)} "
                        f"to {day_text(period.end)} (from a summary the school sent), "
                        f"against a usual {number(100 * p0, 0)}% of sessions missed over "
                        f"{count_phrase(before_possible, 'earlier session')}. {WORTH}",
                    )
                )
        before_possible += period.possible
        before_absent += period.absent
    return alerts


def load_summary_alerts(
    con: duckdb.DuckDBPyConnection,
    *,
    school_urn: str | None = None,
    pupil_key: str | None = None,
) -> list[Alert]:
    """Attendance alerts from summaries, for pupils and years without session marks."""
    by: dict[tuple[str, str], list[SummaryPeriod]] = defaultdict(list)
    for r in queries.rows(
        con, "attendance_summary_periods", school_urn=school_urn, pupil_key=pupil_key
    ):
        by[(str(r["pupil_key"]), str(r["school_urn"]))].append(
            SummaryPeriod(r["period_start"], r["period_end"], int(r["possible"]), int(r["absent"]))
        )
    if not by:
        return []
    # The school's rate over every pupil's summaries, whichever child is asked for.
    priors = {
        str(r["school_urn"]): float(r["absence_rate"])
        for r in queries.rows(con, "school_summary_absence_rates", school_urn=school_urn)
    }
    alerts: list[Alert] = []
    for (pupil, school), periods in sorted(by.items()):
        alerts.extend(
            summary_attendance_alerts(pupil, school, periods, prior_rate=priors.get(school, 0.05))
        )
    return alerts


# -- Loading and the multi-indicator view ---------------------------------------------


def mood_series(rows: Iterable[dict[str, Any]], column: str) -> list[Series]:
    by: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
    for r in rows:
        if r.get(column) is not None:
            by[(str(r["pupil_key"]), str(r["school_urn"]))].append(
                (r["observed_on"], float(r[column]))
            )
    return [
        Series(p, s, [d for d, _ in v], np.array([x for _, x in v]))
        for (p, s), v in sorted(by.items())
    ]


def attendance_series(rows: Iterable[dict[str, Any]]) -> list[AttendanceDays]:
    by: dict[tuple[str, str], list[tuple[date, int, int, int]]] = defaultdict(list)
    for r in rows:
        by[(str(r["pupil_key"]), str(r["school_urn"]))].append(
            (r["session_date"], int(r["possible"]), int(r["absent"]), int(r["unauthorised"]))
        )
    return [
        AttendanceDays(
            p,
            s,
            [row[0] for row in v],
            np.array([row[1] for row in v]),
            np.array([row[2] for row in v]),
            np.array([row[3] for row in v]),
        )
        for (p, s), v in sorted(by.items())
    ]


def attendance_series_of_columns(cols: Mapping[str, np.ndarray]) -> list[AttendanceDays]:
    """:func:`attendance_series` from the query's columns (``fetchnumpy``), rows ordered
    by school, pupil and day: a large school's 115,000 days were built into dictionaries
    one by one, a second and more before any chart ran. The same series, in the same
    order (by pupil, then school)."""
    pupils, schools = cols["pupil_key"], cols["school_urn"]
    n = len(pupils)
    if n == 0:
        return []
    changes = (pupils[1:] != pupils[:-1]) | (schools[1:] != schools[:-1])
    starts = [0, *(np.flatnonzero(changes) + 1).tolist()]
    ends = [*starts[1:], n]
    days = np.asarray(cols["session_date"]).astype("datetime64[D]").tolist()
    possible = np.asarray(cols["possible"], dtype=np.int64)
    absent = np.asarray(cols["absent"], dtype=np.int64)
    unauthorised = np.asarray(cols["unauthorised"], dtype=np.int64)
    series = [
        AttendanceDays(
            str(pupils[a]),
            str(schools[a]),
            days[a:b],
            possible[a:b].copy(),
            absent[a:b].copy(),
            unauthorised[a:b].copy(),
        )
        for a, b in zip(starts, ends, strict=True)
    ]
    return sorted(series, key=lambda x: (x.pupil_key, x.school_urn))


def load_alerts(
    con: duckdb.DuckDBPyConnection,
    *,
    school_urn: str | None = None,
    pupil_key: str | None = None,
) -> list[Alert]:
    """Every alert episode for a school (or one child), oldest first."""
    alerts: list[Alert] = []
    days = queries.rows(con, "pupil_days", school_urn=school_urn, pupil_key=pupil_key)
    for column, indicator in (("mood_mean", "mood"), ("engagement_mean", "engagement")):
        for s in mood_series(days, column):
            alerts.extend(level_alerts(s, indicator=indicator))
    att = attendance_series_of_columns(
        queries.columns(con, "attendance_days", school_urn=school_urn, pupil_key=pupil_key)
    )
    # The priors are the whole school's rates, read from the mart even when one child is
    # asked for, so a child's alerts are the same on their page and on the school's list.
    priors = {
        str(r["school_urn"]): (float(r["absence_rate"]), float(r["unauthorised_rate"]))
        for r in queries.rows(con, "school_absence_rates", school_urn=school_urn)
    }
    for a in att:
        prior, prior_unauthorised = priors.get(a.school_urn, (0.05, 0.01))
        alerts.extend(
            attendance_alerts(a, prior_rate=prior, prior_unauthorised_rate=prior_unauthorised)
        )
    alerts.extend(load_summary_alerts(con, school_urn=school_urn, pupil_key=pupil_key))
    return sorted(alerts, key=lambda a: (a.started_on, a.pupil_key, a.indicator))


# What is missing when a measure has no data in the window, in the page's words.
NO_DATA = {"attendance": "register marks", "mood": "check-ins", "engagement": "check-ins"}


@dataclass(frozen=True)
class Indicator:
    name: str
    fired: bool
    evidence: str
    # False when there was nothing to judge in the window (no check-ins, no register
    # marks): "no data yet" is never "nothing unusual".
    judged: bool = True


@dataclass(frozen=True)
class IndicatorView:
    """Which indicators fired for one child over a window: shown side by side, never summed
    into a score. ``fired_count`` is the count ANALYTICS.md asks for, nothing more."""

    pupil_key: str
    as_of: date
    window_days: int
    indicators: tuple[Indicator, ...] = field(default_factory=tuple)

    @property
    def fired_count(self) -> int:
        return sum(i.fired for i in self.indicators)

    @property
    def summary(self) -> str:
        fired = [i.name for i in self.indicators if i.fired]
        unjudged = [i.name for i in self.indicators if not i.judged]
        names = (
            ", ".join(unjudged[:-1]) + " and " + unjudged[-1] if unjudged[1:] else "".join(unjudged)
        )
        gap = (
            f" {names.capitalize()} could not be judged: nothing recorded in that time."
            if unjudged
            else ""
        )
        if not fired:
            return (
                f"None of the {len(self.indicators)} early-sign measures stood out in the "
                f"{self.window_days} days to {day_text(self.as_of)}.{gap}"
            )
        return (
            f"{len(fired)} of {len(self.indicators)} early-sign measures stood out in the "
            f"{self.window_days} days to {day_text(self.as_of)}: {', '.join(fired)}. "
            f"{WORTH}{gap}"
        )


def poisson_at_least(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean), as scipy's ``poisson.sf(count - 1, mean)``.

    Computed here because the pupil page asks it on every view, and importing scipy for it
    would cost the first view after a restart over a second. Above the mean the tail is
    summed upwards (no cancellation for small p); below it, one minus the lower sum.
    """
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0

    def pmf(k: int) -> float:
        return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))

    if count > mean:
        total, k = 0.0, count
        term = pmf(k)
        while term > 0 and term > total * 1e-17:
            total += term
            k += 1
            term *= mean / k
        return min(total, 1.0)
    return max(0.0, 1.0 - math.fsum(pmf(k) for k in range(count)))


def behaviour_indicator(
    incident_days: Sequence[date], attended_days: Sequence[date], as_of: date, *, recent: int = 10
) -> Indicator:
    """Incidents in the last ``recent`` attended days against the child's earlier rate."""
    attended = sorted(d for d in attended_days if d <= as_of)
    if len(attended) < recent + MIN_BASELINE_DAYS:
        return Indicator("behaviour", False, "Not enough days in school yet to compare.")
    cut = attended[-recent]
    before_days = len(attended) - recent
    before = sum(1 for d in incident_days if d < cut)
    now = sum(1 for d in incident_days if cut <= d <= as_of)
    expected = (before + 0.5) / before_days * recent
    p = poisson_at_least(now, expected)
    fired = now >= 3 and p < 0.01
    evidence = (
        f"{count_phrase(now, 'incident')} in the last {recent} days in school, against about "
        f"{number(expected)} expected from the child's earlier "
        f"{count_phrase(before_days, 'day')}."
    )
    return Indicator("behaviour", fired, evidence)


def attainment_indicator(results: Sequence[dict[str, Any]], as_of: date) -> Indicator:
    """The latest standardised score against the one before, per subject."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if r.get("measure") == "standardised_score" and r["assessed_on"] <= as_of:
            by[str(r["subject"])].append(r)
    drops = []
    for subject, rs in sorted(by.items()):
        rs.sort(key=lambda r: r["assessed_on"])
        if len(rs) >= 2:
            change = float(rs[-1]["value"]) - float(rs[-2]["value"])
            if change <= -ATTAINMENT_DROP:
                drops.append(f"{subject} down {number(-change, 0)} points")
    if drops:
        return Indicator("attainment", True, "Latest tests: " + "; ".join(drops) + ".")
    return Indicator("attainment", False, "No fall of 7.5 points or more in the latest tests.")


def indicator_view(
    pupil_key: str,
    as_of: date,
    alerts: Sequence[Alert],
    *,
    behaviour: Indicator,
    attainment: Indicator,
    window_days: int = 28,
    recorded: Mapping[str, Sequence[date]] | None = None,
) -> IndicatorView:
    """The indicators side by side over the ``window_days`` to ``as_of``. ``recorded``:
    the days each of attendance, mood and engagement has data (any order); a measure
    with none in the window says so instead of "Nothing unusual"."""
    recent = [
        a
        for a in alerts
        if a.pupil_key == pupil_key and 0 <= (as_of - a.last_signal_on).days <= window_days
    ]
    indicators = []
    for name in ("attendance", "mood", "engagement"):
        mine = [a for a in recent if a.indicator == name]
        seen = None if recorded is None else recorded.get(name)
        if mine:
            indicators.append(Indicator(name, True, mine[-1].latest or mine[-1].summary))
        elif seen is not None and not any(0 <= (as_of - d).days <= window_days for d in seen):
            indicators.append(
                Indicator(
                    name,
                    False,
                    f"No {NO_DATA[name]} recorded in the {window_days} days to "
                    f"{day_text(as_of)}, so there is nothing to compare yet.",
                    judged=False,
                )
            )
        else:
            indicators.append(Indicator(name, False, "Nothing unusual."))
    indicators += [behaviour, attainment]
    return IndicatorView(pupil_key, as_of, window_days, tuple(indicators))
