"""School calendars: English-style half terms, INSET days and bank holidays.

Each academic year has six half terms: autumn from early September with a half term
around the end of October, Christmas from about 20 December, spring from early January
with a February half term, a two-week Easter holiday around Good Friday, summer with the
late-May half term, and the summer term running until the school has had 195 term days
(about 21 July). Five of those are INSET days, leaving 190 days for pupils, the statutory
figure. Bank holidays that fall in term (the early May bank holiday every year) are
closures too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
import numpy as np
import numpy.typing as npt

from empowered.school_years import academic_year_label, academic_year_of

TERM_DAYS_TARGET = 195  # including the 5 INSET days
INSET_DAYS = 5


@dataclass(frozen=True)
class HalfTerm:
    academic_year: str
    year_index: int
    term: str
    half_term: int
    start: date
    end: date


@dataclass(frozen=True)
class SchoolCalendar:
    """The days a school is open to pupils, with the half terms and closures behind them."""

    half_terms: tuple[HalfTerm, ...]
    closures: tuple[tuple[date, str], ...]
    days: npt.NDArray[np.int64]  # date ordinals of school days, ascending
    year_of_day: npt.NDArray[np.int64]  # academic-year index of each school day
    half_term_of_day: npt.NDArray[np.int64]  # 1..6
    weekday: npt.NDArray[np.int64]  # 0 = Monday

    def year_bounds(self, year_index: int) -> tuple[int, int]:
        """Index range [lo, hi) of the school days of one academic year."""
        lo = int(np.searchsorted(self.year_of_day, year_index, side="left"))
        hi = int(np.searchsorted(self.year_of_day, year_index, side="right"))
        return lo, hi

    def index_on_or_after(self, day: date) -> int:
        return int(np.searchsorted(self.days, day.toordinal(), side="left"))


def last_complete_academic_year(today: date) -> int:
    """The start year of the latest academic year (1 September - 31 August) fully past.

    Data generated for it never has dates in the future, which validation would reject.
    """
    return academic_year_of(today) - 1


@lru_cache(maxsize=64)
def bank_holidays(calendar_year: int) -> tuple[tuple[date, str], ...]:
    """England's bank holidays in one calendar year, sorted by date."""
    found = holidays.country_holidays("GB", subdiv="ENG", years=calendar_year)
    return tuple(sorted((d, str(name)) for d, name in found.items()))


def _bank_holiday_dates(start_year: int) -> dict[date, str]:
    return dict(bank_holidays(start_year) + bank_holidays(start_year + 1))


def _weekday_on_or_after(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _weekday_on_or_before(d: date) -> date:
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def _monday_on_or_after(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7)


def _good_friday(calendar_year: int) -> date:
    for d, name in bank_holidays(calendar_year):
        if name == "Good Friday":
            return d
    raise ValueError(f"no Good Friday found for {calendar_year}")  # pragma: no cover


def _last_monday_of_may(calendar_year: int) -> date:
    d = date(calendar_year, 5, 31)
    return d - timedelta(days=d.weekday())


def _term_days(start: date, end: date, bank: dict[date, str]) -> list[date]:
    out = []
    d = start
    while d <= end:
        if d.weekday() < 5 and d not in bank:
            out.append(d)
        d += timedelta(days=1)
    return out


def half_terms_for_year(start_year: int, year_index: int, start_offset: int) -> list[HalfTerm]:
    """The six half terms of one academic year; ``start_offset`` shifts the first day."""
    bank = _bank_holiday_dates(start_year)
    nxt = start_year + 1
    a1_start = _weekday_on_or_after(date(start_year, 9, 1) + timedelta(days=start_offset))
    october = _monday_on_or_after(date(start_year, 10, 21))
    a2_end = _weekday_on_or_before(date(start_year, 12, 20))
    sp1_start = _weekday_on_or_after(date(nxt, 1, 4))
    while sp1_start in bank:
        sp1_start = _weekday_on_or_after(sp1_start + timedelta(days=1))
    february = _monday_on_or_after(date(nxt, 2, 12))
    easter_break = _good_friday(nxt) - timedelta(days=4)  # the Monday before Good Friday
    may = _last_monday_of_may(nxt)
    spans = [
        ("autumn", 1, a1_start, october - timedelta(days=3)),
        ("autumn", 2, october + timedelta(days=7), a2_end),
        ("spring", 3, sp1_start, february - timedelta(days=3)),
        ("spring", 4, february + timedelta(days=7), easter_break - timedelta(days=3)),
        ("summer", 5, easter_break + timedelta(days=14), may - timedelta(days=3)),
    ]
    used = sum(len(_term_days(s, e, bank)) for _, _, s, e in spans)
    # Run the last half term until the year has its 195 term days, within 15-24 July.
    su2_start = may + timedelta(days=7)
    su2_days = _term_days(su2_start, date(nxt, 8, 31), bank)
    su2_end = su2_days[max(TERM_DAYS_TARGET - used, 1) - 1]
    su2_end = min(max(su2_end, date(nxt, 7, 15)), _weekday_on_or_before(date(nxt, 7, 24)))
    spans.append(("summer", 6, su2_start, su2_end))
    label = academic_year_label(start_year)
    return [HalfTerm(label, year_index, term, n, s, e) for term, n, s, e in spans]


def build_calendar(first_year: int, years: int, rng: np.random.Generator) -> SchoolCalendar:
    """One school's calendar over ``years`` academic years."""
    all_half_terms: list[HalfTerm] = []
    closures: list[tuple[date, str]] = []
    days: list[int] = []
    year_of_day: list[int] = []
    half_of_day: list[int] = []
    for yi in range(years):
        start_year = first_year + yi
        bank = _bank_holiday_dates(start_year)
        offset = int(rng.choice([0, 0, 1]))
        hts = half_terms_for_year(start_year, yi, offset)
        all_half_terms.extend(hts)
        term_days = {ht.half_term: _term_days(ht.start, ht.end, bank) for ht in hts}
        # INSET: the first day of the year and of January are near-universal; three more
        # land on other half-term edges, varying by school.
        fixed = [term_days[1][0], term_days[3][0]]
        candidates = [
            term_days[1][1],
            term_days[1][-1],
            term_days[2][0],
            term_days[3][-1],
            term_days[4][0],
            term_days[5][0],
            term_days[6][0],
            term_days[6][-1],
        ]
        picks = rng.choice(len(candidates), size=INSET_DAYS - len(fixed), replace=False)
        inset = sorted(set(fixed + [candidates[int(i)] for i in picks]))
        year_closures: list[tuple[date, str]] = [(d, "inset") for d in inset]
        for ht in hts:
            d = ht.start
            while d <= ht.end:
                if d.weekday() < 5 and d in bank:
                    year_closures.append((d, "bank holiday"))
                d += timedelta(days=1)
        year_closures.sort()
        closures.extend(year_closures)
        closed = {d for d, _ in year_closures}
        for ht in hts:
            for d in term_days[ht.half_term]:
                if d not in closed:
                    days.append(d.toordinal())
                    year_of_day.append(yi)
                    half_of_day.append(ht.half_term)
    day_arr = np.array(days, dtype=np.int64)
    return SchoolCalendar(
        half_terms=tuple(all_half_terms),
        closures=tuple(closures),
        days=day_arr,
        year_of_day=np.array(year_of_day, dtype=np.int64),
        half_term_of_day=np.array(half_of_day, dtype=np.int64),
        # date.fromordinal(1) (0001-01-01) is a Monday, so (ordinal - 1) % 7 is the weekday.
        weekday=(day_arr - 1) % 7,
    )


def census_date(start_year: int) -> date:
    """Spring census day: the third Thursday of January."""
    d = date(start_year + 1, 1, 1)
    first_thursday = d + timedelta(days=(3 - d.weekday()) % 7)
    return first_thursday + timedelta(days=14)
