"""How every page writes dates and schools (issue 15: one date format, schools by name).

Templates call ``|day`` ("6 July 2026"), ``|short_day`` ("6 Jul", for tight tables and
chart labels) and ``school_name(urn)`` instead of formatting on their own, so a page cannot
drift to "06 Jul 2026", "2026-07-06" or "school 803391"."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from empowered.analytics.wording import day_text


def day(value: date | datetime | str | None) -> str:
    """'6 July 2026' (the way staff pages write a date, also for an ISO text such as a
    form's ``today``); '' for none."""
    if isinstance(value, str):
        value = date.fromisoformat(value) if value else None
    return day_text(value) if value else ""


def short_day(value: date | datetime | None) -> str:
    """'6 Jul': the same date where a table column or a chart label has little room."""
    return f"{value.day} {value:%b}" if value else ""


def day_time(value: datetime | None) -> str:
    """'6 July 2026 at 14:05'."""
    return f"{day_text(value)} at {value:%H:%M}" if value else ""


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
    templates.env.filters.update(day=day, short_day=short_day, day_time=day_time)
    templates.env.globals["school_name"] = school_name
