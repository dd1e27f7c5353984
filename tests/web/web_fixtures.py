"""Shared helpers of the web tests (a module of its own: test folders share the name
``conftest``, so tests cannot import from it)."""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Trust:
    path: Path
    school: str
    other_school: str
    group: str
    in_group: list[str]  # pupils in the teacher's group
    same_school_other: str  # a pupil at the school but not in the group
    other_school_pupil: str


ROLES = (
    "trust_admin",
    "senco",
    "dsl",
    "teacher",
    "teaching_assistant",
    "visiting_professional",
    "trust_analyst",
)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "every form carries a CSRF token"
    return found.group(1)


def signed_in(app: object, username: str) -> TestClient:
    client = TestClient(app)  # type: ignore[arg-type]
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def observations_csv(small_trust: Path, school: str, prefix: str, rows: int, bad: int = 0) -> bytes:
    """Check-ins from the synthetic trust's own file, for one school, with new ids (so they
    are new rows) and the first ``bad`` of them given a mood no scale has."""
    with (small_trust / "observations.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or ())
        picked = [r for r in reader if r["school_urn"] == school and r["mood"]][:rows]
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(picked):
        row["observation_id"] = f"{prefix}{i:05d}"
        if i < bad:
            row["mood"] = "banana"
        writer.writerow(row)
    return out.getvalue().encode()


def one_value(app: Any, sql: str, params: list[object] | None = None) -> Any:
    """The first column of the first row a query gives on the app's warehouse (or None)."""
    with app.state.warehouse.reading() as con:
        row = con.execute(sql, params or []).fetchone()
    return row[0] if row else None


def finished_import(client: TestClient, location: str) -> str:
    """The import status page at ``location`` once the import has finished (uploads run in
    the background)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        page = client.get(location)
        assert page.status_code == 200
        if "Still importing" not in page.text:
            return page.text
        time.sleep(0.5)
    raise AssertionError("the import did not finish")
