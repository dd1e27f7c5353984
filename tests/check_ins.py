"""Landing a staff check-in as the web app does (form check, prepare, land), for the tests
that need captures arriving between or during builds."""

from __future__ import annotations

from datetime import datetime

import duckdb

from empowered.sources.capture import KINDS, Saved, check_form, land_prepared, prepare_capture
from identity_keys import TEST_KEYS


def land_check_in(
    con: duckdb.DuckDBPyConnection,
    *,
    school_urn: str,
    upn: str,
    day: str,
    time: str,
    note: str = "",
) -> Saved:
    now = datetime.fromisoformat(f"{day}T{time}:00")
    checked = check_form(
        KINDS["check_in"],
        {"mood": "3", "engagement": "3", "regulation": "3", "day": day, "time": time, "note": note},
        strategies=(),
        now=now,
    )
    assert checked.ok, checked.errors
    prepared = prepare_capture(
        KINDS["check_in"],
        checked,
        school_urn=school_urn,
        upn=upn,
        staff="app-user-1",
        keys=TEST_KEYS,
        now=now,
    )
    return land_prepared(con, prepared)
