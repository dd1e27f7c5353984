"""When a member of staff last opened their home page: what "New since your last visit"
compares with.

One row per account in ``app.home_visits`` (this module is its one writer; the web app
writes it with the page view's audit entry, through ``web.recorder``). A visit starts when
the page is opened after ``VISIT_GAP`` away: opening page 2 or a filter a minute later is
the same visit, so its New tags stay while the list is read.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from empowered.access.sessions import IDLE

VISIT_GAP = IDLE  # as long as a session may sit idle: a longer gap is a new visit


def mark_visit(con: duckdb.DuckDBPyConnection, user_id: int, now: datetime) -> datetime | None:
    """Record a visit at ``now`` and return the previous visit's time (None: the first)."""
    found = con.execute(
        "SELECT seen_at, before_at FROM app.home_visits WHERE user_id = ?", [user_id]
    ).fetchone()
    if found is None:
        con.execute(
            "INSERT INTO app.home_visits (user_id, seen_at, before_at) VALUES (?, ?, NULL)",
            [user_id, now],
        )
        return None
    seen_at, before_at = found
    previous = seen_at if now - seen_at > VISIT_GAP else before_at
    con.execute(
        "UPDATE app.home_visits SET seen_at = ?, before_at = ? WHERE user_id = ?",
        [now, previous, user_id],
    )
    return previous  # type: ignore[no-any-return]
