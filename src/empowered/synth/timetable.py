"""School-day timetables: periods with times, and what each class does in each lesson.

Times are minutes after midnight. An observation or incident is placed in the day by its
minute: the period it falls in gives the period code and, for lessons, the class's weekly
timetable gives the subject. The first five minutes of a lesson that follows another part
of the day are "transition" (moving between rooms or activities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from empowered.synth.codes import ACT, ACTIVITIES, ACTIVITY_SETTINGS, SETTINGS

TRANSITION_MINUTES = 5
N_YEAR_GROUPS = 15  # R (0) to 14
LESSON = "lesson"


@dataclass(frozen=True)
class Period:
    code: str
    name: str
    start: int
    end: int
    activity: str  # fixed activity, or LESSON when the class timetable decides


def _hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _periods(rows: tuple[tuple[str, str, str, str, str], ...]) -> tuple[Period, ...]:
    return tuple(Period(c, n, _hm(s), _hm(e), a) for c, n, s, e, a in rows)


PRIMARY = _periods(
    (
        ("REG", "Registration", "08:45", "09:00", "arrival"),
        ("P1", "Period 1", "09:00", "10:00", LESSON),
        ("ASM", "Assembly", "10:00", "10:20", "assembly"),
        ("BRK", "Break", "10:20", "10:35", "break"),
        ("P2", "Period 2", "10:35", "11:35", LESSON),
        ("P3", "Period 3", "11:35", "12:15", LESSON),
        ("LUN", "Lunch", "12:15", "13:15", "lunch"),
        ("P4", "Period 4", "13:15", "14:15", LESSON),
        ("P5", "Period 5", "14:15", "15:05", LESSON),
        ("HOM", "Home time", "15:05", "15:15", "home_time"),
    )
)
SECONDARY_5 = _periods(
    (
        ("REG", "Registration", "08:35", "08:55", "arrival"),
        ("P1", "Period 1", "08:55", "09:55", LESSON),
        ("P2", "Period 2", "09:55", "10:55", LESSON),
        ("BRK", "Break", "10:55", "11:15", "break"),
        ("P3", "Period 3", "11:15", "12:15", LESSON),
        ("P4", "Period 4", "12:15", "13:15", LESSON),
        ("LUN", "Lunch", "13:15", "13:55", "lunch"),
        ("P5", "Period 5", "13:55", "14:55", LESSON),
        ("HOM", "Home time", "14:55", "15:05", "home_time"),
    )
)
SECONDARY_6 = _periods(
    (
        ("REG", "Registration", "08:40", "08:55", "arrival"),
        ("P1", "Period 1", "08:55", "09:45", LESSON),
        ("P2", "Period 2", "09:45", "10:35", LESSON),
        ("BRK", "Break", "10:35", "10:55", "break"),
        ("P3", "Period 3", "10:55", "11:45", LESSON),
        ("P4", "Period 4", "11:45", "12:35", LESSON),
        ("LUN", "Lunch", "12:35", "13:15", "lunch"),
        ("P5", "Period 5", "13:15", "14:05", LESSON),
        ("P6", "Period 6", "14:05", "14:55", LESSON),
        ("HOM", "Home time", "14:55", "15:05", "home_time"),
    )
)
SPECIAL = _periods(
    (
        ("ARR", "Arrival", "09:00", "09:30", "arrival"),
        ("P1", "Session 1", "09:30", "10:15", LESSON),
        ("BRK", "Break", "10:15", "10:35", "break"),
        ("P2", "Session 2", "10:35", "11:15", LESSON),
        ("P3", "Session 3", "11:15", "12:00", LESSON),
        ("LUN", "Lunch", "12:00", "13:00", "lunch"),
        ("P4", "Session 4", "13:00", "13:45", LESSON),
        ("P5", "Session 5", "13:45", "14:30", LESSON),
        ("HOM", "Home time", "14:30", "15:00", "home_time"),
    )
)

# Weekly lesson counts are drawn from these subject weights.
SUBJECTS_PRIMARY = (
    ("science", 2),
    ("topic", 3),
    ("pe", 2),
    ("art", 1),
    ("music", 1),
    ("reading", 1),
)
SUBJECTS_SECONDARY = (
    ("english", 5),
    ("maths", 5),
    ("science", 5),
    ("topic", 6),
    ("pe", 2),
    ("art", 1),
    ("music", 1),
)
SUBJECTS_SPECIAL = (
    ("english", 4),
    ("maths", 4),
    ("topic", 3),
    ("pe", 2),
    ("art", 2),
    ("music", 2),
    ("therapy", 3),
    ("free_choice", 3),
    ("reading", 2),
    ("science", 1),
)


@dataclass(frozen=True)
class Timetable:
    periods: tuple[Period, ...]
    # (year group, weekday, lesson number) -> activity index
    lessons: npt.NDArray[np.int64]
    lesson_period_index: tuple[int, ...]  # index into periods of each lesson
    is_special: bool

    @property
    def day_start(self) -> int:
        return self.periods[0].start

    @property
    def day_end(self) -> int:
        return self.periods[-1].end

    @property
    def lunch(self) -> Period:
        return next(p for p in self.periods if p.code == "LUN")

    @property
    def starts(self) -> npt.NDArray[np.int64]:
        return np.array([p.start for p in self.periods], dtype=np.int64)

    def period_of(self, minutes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Index of the period each minute falls in (clipped to the day)."""
        idx = np.searchsorted(self.starts, minutes, side="right") - 1
        return np.clip(idx, 0, len(self.periods) - 1)

    def activity_of(
        self,
        minutes: npt.NDArray[np.int64],
        year_group: npt.NDArray[np.int64],
        weekday: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.int64]:
        """Activity index at each minute for a pupil in the given year group and weekday."""
        period = self.period_of(minutes)
        fixed = np.array(
            [-1 if p.activity == LESSON else ACT[p.activity] for p in self.periods],
            dtype=np.int64,
        )
        lesson_no = np.full(len(self.periods), 0, dtype=np.int64)
        for n, pi in enumerate(self.lesson_period_index):
            lesson_no[pi] = n
        act = fixed[period]
        is_lesson = act < 0
        lessons = self.lessons[
            np.clip(year_group, 0, N_YEAR_GROUPS - 1), weekday, lesson_no[period]
        ]
        act = np.where(is_lesson, lessons, act)
        starts = self.starts[period]
        moving = is_lesson & (minutes - starts < TRANSITION_MINUTES)
        return np.where(moving, ACT["transition"], act)

    def minutes_in_activity(self, year_group: int, weekday: int, activity: int) -> list[range]:
        """The minute ranges of one day spent in an activity (for planted contexts)."""
        mins = np.arange(self.day_start, self.day_end, dtype=np.int64)
        acts = self.activity_of(
            mins,
            np.full(mins.shape, year_group, dtype=np.int64),
            np.full(mins.shape, weekday, dtype=np.int64),
        )
        hit = acts == activity
        out: list[range] = []
        start = -1
        for m, h in zip(mins.tolist(), hit.tolist(), strict=True):
            if h and start < 0:
                start = m
            elif not h and start >= 0:
                out.append(range(start, m))
                start = -1
        if start >= 0:
            out.append(range(start, self.day_end))
        return out


def _weekly_lessons(
    rng: np.random.Generator, phase: str, year_group: int, n_lessons: int
) -> npt.NDArray[np.int64]:
    grid = np.zeros((5, n_lessons), dtype=np.int64)
    if phase == "primary":
        # English and maths every morning, phonics for the youngest, the rest shared out.
        other = [s for s, w in SUBJECTS_PRIMARY for _ in range(w)]
        for day in range(5):
            first = "english" if rng.random() < 0.5 else "maths"
            grid[day, 0] = ACT[first]
            grid[day, 1] = ACT["maths" if first == "english" else "english"]
            grid[day, 2] = ACT["phonics" if year_group <= 2 else "reading"]
        rest = [other[int(i)] for i in rng.permutation(len(other))]
        for k, (day, lesson) in enumerate((d, le) for d in range(5) for le in range(3, 5)):
            grid[day, lesson] = ACT[rest[k % len(rest)]]
        return grid
    subjects = SUBJECTS_SECONDARY if phase == "secondary" else SUBJECTS_SPECIAL
    pool = [s for s, w in subjects for _ in range(w)]
    need = 5 * n_lessons
    pool = (pool * (need // len(pool) + 1))[:need]
    order = rng.permutation(len(pool))
    for k, i in enumerate(order.tolist()):
        grid[k // n_lessons, k % n_lessons] = ACT[pool[i]]
    return grid


def build_timetable(rng: np.random.Generator, phase: str) -> Timetable:
    if phase == "primary":
        periods = PRIMARY
    elif phase == "secondary":
        periods = SECONDARY_6 if rng.random() < 0.5 else SECONDARY_5
    else:
        periods = SPECIAL
    lesson_idx = tuple(i for i, p in enumerate(periods) if p.activity == LESSON)
    lessons = np.stack(
        [_weekly_lessons(rng, phase, yg, len(lesson_idx)) for yg in range(N_YEAR_GROUPS)]
    )
    return Timetable(periods, lessons, lesson_idx, is_special=phase == "special")


def _setting_table(special: bool) -> npt.NDArray[np.float64]:
    """Cumulative setting probabilities per activity (rows follow ACTIVITIES)."""
    table = np.zeros((len(ACTIVITIES), len(SETTINGS)))
    for activity, weights in ACTIVITY_SETTINGS:
        row = table[ACT[activity]]
        for setting, w in weights:
            row[SETTINGS.index(setting)] = w
        if special and activity in ("arrival", "home_time"):
            # Most special-school pupils come by minibus.
            row *= 0.6
            row[SETTINGS.index("minibus")] = 0.4
        row /= row.sum()
    cum: npt.NDArray[np.float64] = np.cumsum(table, axis=1)
    return cum


_SETTINGS_MAINSTREAM = _setting_table(False)
_SETTINGS_SPECIAL = _setting_table(True)


def settings_for(
    rng: np.random.Generator, activity: npt.NDArray[np.int64], special: bool
) -> npt.NDArray[np.int64]:
    """Draw a setting index for each activity index."""
    table = _SETTINGS_SPECIAL if special else _SETTINGS_MAINSTREAM
    cum: npt.NDArray[np.float64] = table[activity]
    u = rng.random(len(activity))
    idx: npt.NDArray[np.int64] = np.minimum((u[:, None] > cum).sum(axis=1), len(SETTINGS) - 1)
    return idx.astype(np.int64)
