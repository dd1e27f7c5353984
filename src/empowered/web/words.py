"""How every page writes dates and schools (issue 15: one date format, schools by name).

Templates call ``|day`` ("6 July 2026"), ``|short_day`` ("6 Jul", for tight tables and
chart labels), ``|weekday_day`` ("Monday 6 July 2026"), ``|day_time`` ("6 July 2026 at
14:05") and ``school_name(urn)`` instead of formatting on their own, so a page cannot
drift to "06 Jul 2026", "2026-07-06" or "school 803391" (tests/web/test_template_dates.py
fails on a template that calls ``strftime``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import duckdb
from jinja2 import pass_context

from empowered.analytics.wording import day_text

if TYPE_CHECKING:
    # Only named here: the documents (documents/render.py) write dates with these same
    # filters and need not load the web framework to do it.
    from fastapi.templating import Jinja2Templates


def day(value: date | datetime | str | None) -> str:
    """'6 July 2026' (the way staff pages write a date, also for an ISO text such as a
    form's ``today``); '' for none."""
    if isinstance(value, str):
        value = date.fromisoformat(value) if value else None
    return day_text(value) if value else ""


def short_day(value: date | datetime | None) -> str:
    """'6 Jul': the same date where a table column or a chart label has little room."""
    return f"{value.day} {value:%b}" if value else ""


def weekday_day(value: date | datetime | None) -> str:
    """'Monday 6 July 2026': a date where the day of the week matters (a deadline, a
    session register)."""
    return f"{value:%A} {day_text(value)}" if value else ""


def day_time(value: datetime | None, *, seconds: bool = False) -> str:
    """'6 July 2026 at 14:05' ('at 14:05:09' with seconds, for the audit log)."""
    if not value:
        return ""
    return (
        f"{day_text(value)} at {value:%H:%M:%S}"
        if seconds
        else f"{day_text(value)} at {value:%H:%M}"
    )


@pass_context
def school_name(context: Any, urn: object) -> str:
    """The school's name for its URN, read once per app from ``core.dim_school`` (the URN
    itself only for a school the warehouse does not know)."""
    app = context["request"].app
    names: dict[str, str] | None = getattr(app.state, "school_names", None)
    if names is None or str(urn) not in names:
        names = app.state.school_names = _school_names(app)
    return names.get(str(urn)) or f"the school with URN {urn}"


def _school_names(app: Any) -> dict[str, str]:
    with app.state.warehouse.reading() as con:
        try:
            rows = con.execute("SELECT school_urn, school_name FROM core.dim_school").fetchall()
        except duckdb.CatalogException:  # a warehouse not built yet has no schools to name
            return {}
    return {str(urn): str(name) for urn, name in rows if name}


def install(templates: Jinja2Templates) -> None:
    templates.env.filters.update(
        day=day, short_day=short_day, day_time=day_time, weekday_day=weekday_day
    )
    templates.env.globals["school_name"] = school_name
