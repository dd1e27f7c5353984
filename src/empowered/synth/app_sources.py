"""The demo's living SEN record: what staff would have entered in the app (plans, reviews,
actions, intervention groups and their session registers, concerns, visitors' notes),
landed through the SAME services the app's forms call, as sources of their own.

The synthetic trust's files are imported first and built; then each writer below lands
its records for the demo's school (raw only: no writer builds), and one build takes them
through staging, core and the marts like any other source. A writer is a function of the
connection and a :class:`DemoContext`; it returns how many records it landed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import duckdb

from empowered.access.roles import Role
from empowered.access.users import User, list_users
from empowered.keys import Keys
from empowered.synth.app_actions import write_actions
from empowered.synth.app_concerns import land_concerns
from empowered.synth.app_contributions import write_contributions
from empowered.synth.app_plans import write_plans
from empowered.synth.app_provision import write_provision
from empowered.synth.app_reviews import write_reviews
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult


@dataclass(frozen=True)
class DemoContext:
    school_urn: str
    # The demo's staff accounts at the school, by role (the owners, authors and recorders).
    staff: Mapping[Role, User]
    keys: Keys
    today: date
    seed: int


Writer = Callable[[duckdb.DuckDBPyConnection, DemoContext], int]

# One entry per kind of app-entered record; each lands through its own app service.
# Plans first: the demo's reviews are held on the plans current when they land.
WRITERS: tuple[Writer, ...] = (
    write_plans,
    write_reviews,
    write_actions,
    write_provision,
    write_contributions,
    land_concerns,  # safeguarding concerns and leavers' child protection files
)


def land_demo_records(
    con: duckdb.DuckDBPyConnection, *, keys: Keys, today: date, seed: int
) -> BuildResult | None:
    """Land every writer's records for the school the demo accounts work at, then build
    once. None when nothing was landed (no writers, or no school account)."""
    users = [u for u in list_users(con) if u.school_urn is not None and not u.disabled]
    if not users or not WRITERS:
        return None
    school_urn = users[0].school_urn
    assert school_urn is not None
    staff = {u.role: u for u in users if u.school_urn == school_urn}
    context = DemoContext(school_urn, staff, keys, today, seed)
    landed = sum(writer(con, context) for writer in WRITERS)
    return build_duckdb(con) if landed else None
