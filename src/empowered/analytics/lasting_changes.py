"""Looking back over a child's days: when did their mood (or engagement) settle at a new level?

A thin layer over :func:`~empowered.analytics.changepoints.mean_shifts` for the pupil page:
each day with a rating is one observation (the day's average), the serial penalty allows
for one day carrying over to the next, and every change found is said with its date, its
direction and its size in the measure's own units ("Mood was lower from about 3 March
2026: on average 3.1 out of 5 before, 2.4 after").

Two rules keep it honest (ANALYTICS.md: a result resting on too little data says so):

* fewer than ``2 * MIN_DAYS`` days with a rating: no search, and the page says how many
  days there are and how many are needed;
* a change smaller than ``MIN_STEP`` points is not reported: on a 1 to 5 rating a
  difference of a fifth of a point between two long stretches can pass the penalty and
  still mean nothing to an adult who knows the child.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from empowered.analytics.changepoints import mean_shifts, serial_penalty
from empowered.analytics.wording import count_phrase, day_text, number

MIN_DAYS = 10  # each stretch: two school weeks of days with a rating
MIN_STEP = 0.5  # points on the 1 to 5 scale


@dataclass(frozen=True)
class DatedChange:
    measure: str  # "mood", "engagement"
    starts_on: date  # the first day of the new level
    mean_before: float
    mean_after: float
    days_before: int
    days_after: int
    summary: str

    @property
    def lower(self) -> bool:
        return self.mean_after < self.mean_before


@dataclass(frozen=True)
class MeasureChanges:
    measure: str
    days: int  # days with a rating looked at
    changes: tuple[DatedChange, ...]
    enough: bool  # False: too few days to look
    summary: str


def lasting_changes(
    measure: str, days: Sequence[date], values: Sequence[float], *, scale_top: int = 5
) -> MeasureChanges:
    """The lasting changes in one measure's daily averages (``days`` in order, one value
    each), oldest first, each said in words."""
    name = measure.capitalize()
    n = len(values)
    if n < 2 * MIN_DAYS:
        return MeasureChanges(
            measure,
            n,
            (),
            False,
            f"{name}: not enough days yet to look for a lasting change "
            f"({count_phrase(n, 'day')} with a rating; at least {2 * MIN_DAYS} are needed).",
        )
    shifts = mean_shifts(values, min_size=MIN_DAYS, penalty=serial_penalty(values))
    bounds = [0, *(s.index for s in shifts), n]
    found = []
    for k, s in enumerate(shifts):
        if abs(s.mean_after - s.mean_before) < MIN_STEP:
            continue
        before, after = s.index - bounds[k], bounds[k + 2] - s.index
        way = "lower" if s.mean_after < s.mean_before else "higher"
        summary = (
            f"{name} was {way} from about {day_text(days[s.index])}: on average "
            f"{number(s.mean_before)} out of {scale_top} over the "
            f"{count_phrase(before, 'day')} with a rating before, "
            f"{number(s.mean_after)} over the {after:,} after."
        )
        found.append(
            DatedChange(measure, days[s.index], s.mean_before, s.mean_after, before, after, summary)
        )
    if found:
        summary = " ".join(c.summary for c in found)
    else:
        summary = (
            f"{name}: no lasting change stands out over the {count_phrase(n, 'day')} with a "
            f"rating, from {day_text(days[0])} to {day_text(days[-1])}."
        )
    return MeasureChanges(measure, n, tuple(found), True, summary)
