"""What the provision management pages show: the intervention catalogue, groups, a group's
members and registers, one enrolment's history. Landing is :mod:`empowered.provision`'s
job; who may open what is the policy's (the web layer asks it); nothing here writes.

Stored codes are turned into words here (days, reasons, staff roles) so no page shows a
code; staff are named by their account's username, looked up from the ``app-user-N``
references the records carry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from empowered import provision as pv
from empowered.identity import identity_reader
from empowered.keys import Keys
from empowered.views import PupilScope, queries

Row = dict[str, Any]


def user_id_of(ref: str) -> int | None:
    """The account number in a staff reference (``capture.staff_ref``), or None."""
    prefix = "app-user-"
    if ref.startswith(prefix) and ref[len(prefix) :].isdigit():
        return int(ref[len(prefix) :])
    return None


def runners_of(staff_ids: str | None) -> frozenset[int]:
    """The accounts a group's ``staff_ids`` name."""
    found = (user_id_of(r) for r in (staff_ids or "").split())
    return frozenset(u for u in found if u is not None)


def clock(minute: object) -> str:
    if not isinstance(minute, int):
        return ""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def long_date(day: object) -> str:
    return f"{day.day} {day:%B %Y}" if isinstance(day, date) else ""


def money(value: object) -> str:
    return f"£{value:,.2f}" if isinstance(value, int | float) else ""


@dataclass(frozen=True)
class Intervention:
    code: str
    name: str
    area_of_need: str
    measure: str  # words
    measure_code: str
    school_urn: str | None  # None: trust-wide
    school_name: str
    staff_role: str  # words
    staff_role_code: str
    minutes_per_session: int | None
    sessions_per_week: int | None
    weeks: int | None
    group_size: int
    hourly_rate: float | None
    materials_cost: float | None
    training_cost: float | None
    planned_hours: float | None
    planned_cost_per_pupil: float | None

    @property
    def cost_model(self) -> str:
        """The cost model in words: staff role x hours x rate + resources."""
        parts = []
        if self.planned_hours is not None and self.hourly_rate is not None:
            parts.append(
                f"{self.staff_role or 'staff'}: {self.planned_hours:g} hours at "
                f"{money(self.hourly_rate)} an hour"
            )
        elif self.hourly_rate is not None:
            parts.append(f"{self.staff_role or 'staff'} at {money(self.hourly_rate)} an hour")
        if self.materials_cost:
            parts.append(f"resources {money(self.materials_cost)}")
        if self.training_cost:
            parts.append(f"training {money(self.training_cost)}")
        return " + ".join(parts)

    def form_values(self) -> dict[str, str]:
        def text(v: object) -> str:
            return "" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))

        return {
            "name": self.name,
            "area_of_need": self.area_of_need,
            "measure": self.measure_code,
            "staff_role": self.staff_role_code,
            "minutes_per_session": text(self.minutes_per_session),
            "sessions_per_week": text(self.sessions_per_week),
            "weeks": text(self.weeks),
            "group_size": text(self.group_size),
            "hourly_rate": text(self.hourly_rate),
            "materials_cost": text(self.materials_cost),
            "training_cost": text(self.training_cost),
        }


def catalogue(con: duckdb.DuckDBPyConnection, schools: frozenset[str] | None) -> list[Intervention]:
    """The trust-wide entries and the own entries of ``schools`` (None: every school)."""
    found = []
    for r in queries.rows(
        con, "provision_catalogue", schools=None if schools is None else sorted(schools)
    ):
        found.append(
            Intervention(
                code=str(r["intervention_code"]),
                name=str(r["intervention_name"] or r["intervention_code"]),
                area_of_need=str(r["area_of_need"] or ""),
                measure=pv.words(pv.MEASURES, r["measure"]),
                measure_code=str(r["measure"] or ""),
                school_urn=r["owner_school_urn"],
                school_name=str(r["owner_school_name"] or ""),
                staff_role=pv.words(pv.STAFF_ROLES, r["staff_role"]),
                staff_role_code=str(r["staff_role"] or ""),
                minutes_per_session=r["minutes_per_session"],
                sessions_per_week=r["sessions_per_week"],
                weeks=r["weeks"],
                group_size=int(r["group_size"]),
                hourly_rate=r["hourly_staff_cost"],
                materials_cost=r["materials_cost"],
                training_cost=r["training_cost"],
                planned_hours=r["planned_hours"],
                planned_cost_per_pupil=r["planned_cost_per_pupil"],
            )
        )
    return found


def all_codes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every code in the catalogue (a new entry's code must be none of them)."""
    return {i.code for i in catalogue(con, None)}


@dataclass(frozen=True)
class Group:
    group_id: str
    school_urn: str
    name: str
    intervention_code: str
    intervention_name: str
    minutes_per_session: int | None
    staff_ids: tuple[str, ...]
    staff_names: tuple[str, ...]
    day_code: str
    day: str
    start_time: str
    end_time: str
    start_date: date | None
    end_date: date | None
    members: int
    registers: int
    delivered: int
    last_session: date | None

    @property
    def runners(self) -> frozenset[int]:
        return runners_of(" ".join(self.staff_ids))

    @property
    def slot(self) -> str:
        times = "–".join(t for t in (self.start_time, self.end_time) if t)
        return f"{self.day}s {times}".strip() if self.day else times

    def form_values(self) -> dict[str, str]:
        return {
            "group_name": self.name,
            "intervention": self.intervention_code,
            "day": self.day_code,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "start_date": self.start_date.isoformat() if self.start_date else "",
            "end_date": self.end_date.isoformat() if self.end_date else "",
        }


def groups(
    con: duckdb.DuckDBPyConnection,
    schools: frozenset[str] | None,
    *,
    staff_names: Mapping[str, str],
    today: date,
    group_id: str | None = None,
) -> list[Group]:
    """The groups at ``schools`` (None: every school); ``staff_names`` turns staff
    references into usernames."""
    found = []
    try:
        rows = queries.rows(
            con,
            "provision_groups",
            schools=None if schools is None else sorted(schools),
            group_id=group_id,
            today=today,
        )
    except duckdb.CatalogException:  # a warehouse not yet built with groups: none yet
        rows = []
    for r in rows:
        staff = tuple(str(r["staff_ids"] or "").split())
        found.append(
            Group(
                group_id=str(r["group_id"]),
                school_urn=str(r["school_urn"]),
                name=str(r["group_name"]),
                intervention_code=str(r["intervention_code"]),
                intervention_name=str(r["intervention_name"] or r["intervention_code"]),
                minutes_per_session=r["minutes_per_session"],
                staff_ids=staff,
                staff_names=tuple(staff_names.get(s, "a former member of staff") for s in staff),
                day_code=str(r["day_of_week"] or ""),
                day=pv.words(pv.DAYS, r["day_of_week"]),
                start_time=clock(r["start_minute"]),
                end_time=clock(r["end_minute"]),
                start_date=r["start_date"],
                end_date=r["end_date"],
                members=int(r["members"]),
                registers=int(r["registers"]),
                delivered=int(r["delivered"]),
                last_session=r["last_session"],
            )
        )
    return found


def group(
    con: duckdb.DuckDBPyConnection, group_id: str, *, staff_names: Mapping[str, str], today: date
) -> Group | None:
    found = groups(con, None, staff_names=staff_names, today=today, group_id=group_id)
    return found[0] if found else None


@dataclass(frozen=True)
class Member:
    enrolment_id: str
    pupil_key: str
    name: str
    start_date: date | None
    end_date: date | None
    reason: str
    end_reason: str  # words
    sessions_planned: int | None
    sessions_delivered: int
    sessions_attended: int
    minutes_attended: int
    pre_date: date | None
    pre_score: float | None
    post_date: date | None
    post_score: float | None
    cost: float | None

    def on(self, day: date) -> bool:
        """Enrolled on ``day`` (the start and end days included)."""
        started = self.start_date is None or self.start_date <= day
        return started and (self.end_date is None or day <= self.end_date)


def members(
    con: duckdb.DuckDBPyConnection,
    group_id: str,
    *,
    scope: PupilScope,
    keys: Keys | None = None,
) -> list[Member]:
    """The group's enrolments, current first, named for a scope allowed identity (the
    caller has asked the policy that this user may see this group's members)."""
    rows = queries.rows(con, "provision_group_members", group_id=group_id)
    reader = identity_reader(scope, keys) if scope.identified else None
    return [
        Member(
            enrolment_id=str(r["enrolment_id"]),
            pupil_key=str(r["pupil_key"]),
            name=reader.name(r) if reader else "A pupil",
            start_date=r["start_date"],
            end_date=r["end_date"],
            reason=str(r["reason"] or ""),
            end_reason=pv.words(pv.END_REASONS, r["end_reason"]),
            sessions_planned=r["sessions_planned"],
            sessions_delivered=int(r["sessions_delivered"] or 0),
            sessions_attended=int(r["sessions_attended"] or 0),
            minutes_attended=int(r["minutes_attended"] or 0),
            pre_date=r["pre_date"],
            pre_score=r["pre_score"],
            post_date=r["post_date"],
            post_score=r["post_score"],
            cost=r["cost_per_pupil"],
        )
        for r in rows
    ]


def members_on(found: Sequence[Member], day: date) -> list[Member]:
    """The members whose enrolment covers ``day``: a register's rows."""
    return [m for m in found if m.on(day)]


@dataclass(frozen=True)
class SessionDay:
    day: date
    delivered: bool
    missed_reason: str  # words
    members: int
    attended: int
    minutes: int
    recorded_by: str


def sessions(
    con: duckdb.DuckDBPyConnection,
    group_id: str,
    *,
    staff_names: Mapping[str, str],
    limit: int = 20,
) -> list[SessionDay]:
    return [
        SessionDay(
            day=r["session_date"],
            delivered=bool(r["delivered"]),
            missed_reason=pv.words(pv.MISSED_REASONS, r["missed_reason"]),
            members=int(r["members"]),
            attended=int(r["attended"]),
            minutes=int(r["minutes"] or 0),
            recorded_by=staff_names.get(str(r["recorded_by"] or ""), ""),
        )
        for r in queries.rows(con, "provision_group_sessions", group_id=group_id, limit=limit)
    ]


@dataclass(frozen=True)
class EnrolmentVersion:
    values: Row  # the landed columns, as text
    is_current: bool
    saved_at: Any
    imported: bool  # from a file rather than the app

    @property
    def summary(self) -> str:
        v = self.values
        parts = [f"from {v['start_date']}" if v.get("start_date") else ""]
        if v.get("end_date"):
            parts.append(f"ended {v['end_date']} ({pv.words(pv.END_REASONS, v['end_reason'])})")
        if v.get("pre_score"):
            parts.append(f"entry {v['pre_score']} on {v['pre_date']}")
        if v.get("post_score"):
            parts.append(f"exit {v['post_score']} on {v['post_date']}")
        return "; ".join(p for p in parts if p)


def enrolment_versions(con: duckdb.DuckDBPyConnection, enrolment_id: str) -> list[EnrolmentVersion]:
    """Every accepted version of the enrolment, newest first (its history)."""
    return [
        EnrolmentVersion(
            values=r,
            is_current=bool(r["is_current"]),
            saved_at=r["loaded_at"],
            imported=not str(r["source"]).startswith("app-"),
        )
        for r in queries.rows(con, "provision_enrolment_versions", enrolment_id=enrolment_id)
    ]


def staff_choices(
    accounts: Collection[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    """(staff reference, username) pairs, sorted by username, for the group form."""
    return tuple(sorted(accounts, key=lambda a: a[1].casefold()))
