"""Records a school's own systems add up from the detail the generator draws: each SEN
status's needs one row per need with its rank, and a per-pupil attendance summary over a
stated period, counted from the very session marks written for the same pupils.

Both are derived, never drawn: a register's needs and a summary can then never disagree
with the statuses and marks they come from, and planted truth read from the marks holds
whichever of the two a school's files carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from empowered.reference.loader import read_seeds


@dataclass(frozen=True)
class StatusRecord:
    start: date
    provision: str
    primary: str
    secondary: str


def sen_need_rows(urn: str, upn: str, records: Sequence[StatusRecord]) -> list[dict[str, str]]:
    """The needs of a pupil's status records, ranked 1 (primary) and 2 (secondary).

    A need is in force from its record's start to the day before the pupil's next record,
    as a SEN register's need end dates say, so the needs in force on any day are exactly
    those of the status record in force then."""
    ordered = sorted(records, key=lambda r: r.start)
    rows = []
    for i, record in enumerate(ordered):
        end = ordered[i + 1].start - timedelta(days=1) if i + 1 < len(ordered) else None
        for rank, need in ((1, record.primary), (2, record.secondary)):
            if need:
                rows.append(
                    {
                        "school_urn": urn,
                        "upn": upn,
                        "need_type": need,
                        "need_rank": str(rank),
                        "start_date": record.start.isoformat(),
                        "end_date": end.isoformat() if end else "",
                    }
                )
    return rows


@dataclass(frozen=True)
class _Counts:
    possible: bool
    present: bool
    approved_activity: bool
    authorised: bool
    unauthorised: bool
    late: bool


@cache
def _meanings(on: date) -> dict[str, _Counts]:
    """What each register code in force on a day counts as (reference.attendance_code)."""
    seed = read_seeds()["attendance_code"]
    out: dict[str, _Counts] = {}
    for values in seed.rows:
        row = dict(zip(seed.columns, values, strict=True))
        start, end = row["effective_from"], row["effective_to"]
        assert isinstance(start, date) and (end is None or isinstance(end, date))
        if start > on or (end is not None and end < on):
            continue
        aea = row["category"] == "approved_activity"
        out[str(row["code"])] = _Counts(
            possible=bool(row["counts_as_possible"]),
            present=bool(row["counts_as_present"]) and not aea,
            approved_activity=aea and bool(row["counts_as_possible"]),
            authorised=bool(row["counts_as_authorised"]),
            unauthorised=bool(row["counts_as_unauthorised"]),
            # Late before the register closed: present, and counted as late too.
            late=row["code"] == "L",
        )
    return out


def attendance_summary_rows(
    urn: str,
    marks: Sequence[tuple[str, str, str]],
    period_start: date,
    period_end: date,
) -> list[dict[str, str]]:
    """Per pupil, the sessions of ``marks`` ((upn, ISO date, code)) in the period, added up
    as an MIS attendance summary does. Pupils with no possible session are left out, as
    a summary of the period lists no attendance for them."""
    meanings = _meanings(period_start)
    first, last = period_start.isoformat(), period_end.isoformat()
    totals: dict[str, list[int]] = {}
    for upn, day, code in marks:
        if not first <= day <= last:
            continue
        counts = meanings[code]
        row = totals.setdefault(upn, [0] * 6)
        for i, flag in enumerate(
            (
                counts.possible,
                counts.present,
                counts.approved_activity,
                counts.authorised,
                counts.unauthorised,
                counts.late,
            )
        ):
            row[i] += int(flag)
    names = ("possible", "present", "approved_activity", "authorised", "unauthorised", "late")
    return [
        {
            "school_urn": urn,
            "upn": upn,
            "period_start": first,
            "period_end": last,
            **{name: str(value) for name, value in zip(names, counts, strict=True)},
        }
        for upn, counts in sorted(totals.items())
        if counts[0] > 0
    ]
