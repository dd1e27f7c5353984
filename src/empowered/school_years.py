"""English school years: 1 September to 31 August, written "2026/27"."""

from __future__ import annotations

from datetime import date


def academic_year_of(day: date) -> int:
    """The start year of the academic year (1 September - 31 August) holding ``day``."""
    return day.year if day.month >= 9 else day.year - 1


def academic_year_label(start_year: int) -> str:
    """ "2026/27" for the year starting in September 2026."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"
