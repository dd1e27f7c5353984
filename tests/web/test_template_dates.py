"""One way of writing dates (issue 15, item 7): templates write a date through the
``day``, ``short_day``, ``weekday_day`` and ``day_time`` filters (``web/words.py``), never
with their own ``strftime``, so no page can drift to another format. ``isoformat()`` stays
only where a machine reads it (a ``<time datetime=...>`` attribute)."""

from __future__ import annotations

import re
from datetime import date, datetime
from importlib import resources

from empowered.web.words import day_time, weekday_day

_ISO_OUTSIDE_ATTRIBUTE = re.compile(r'(?<!datetime=")\{\{[^}]*isoformat\(\)[^}]*\}\}')


def _templates() -> dict[str, str]:
    folder = resources.files("empowered.web").joinpath("templates")
    return {
        t.name: t.read_text(encoding="utf-8") for t in folder.iterdir() if t.name.endswith(".html")
    }


def test_no_template_formats_a_date_itself() -> None:
    own = {name for name, text in _templates().items() if "strftime(" in text}
    assert not own, f"templates formatting dates themselves: {sorted(own)}"


def test_isoformat_is_only_for_machines() -> None:
    shown = {name for name, text in _templates().items() if _ISO_OUTSIDE_ATTRIBUTE.search(text)}
    assert not shown, f"templates showing an ISO date to staff: {sorted(shown)}"


def test_the_weekday_and_seconds_forms_match_the_day_format() -> None:
    assert weekday_day(date(2026, 7, 6)) == "Monday 6 July 2026"
    assert weekday_day(None) == ""
    moment = datetime(2026, 7, 6, 14, 5, 9)
    assert day_time(moment) == "6 July 2026 at 14:05"
    assert day_time(moment, seconds=True) == "6 July 2026 at 14:05:09"
