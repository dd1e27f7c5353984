"""The trust cut off in the middle of an autumn term (synth.through) that tests share: the
demo's shape, a whole year behind it and the year in progress, on a fixed day so no test
depends on today's date (tests/conftest.py builds it once per session)."""

from __future__ import annotations

from datetime import date

CUT_TRUST = {"schools": 3, "pupils": 300, "years": 2, "seed": 4}
CUT_THROUGH = date(2026, 11, 15)  # a Sunday: the last register is on the Friday
