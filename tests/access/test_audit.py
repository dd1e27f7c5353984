"""The audit log: typed events through one writer, newest first, never identity."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from access_fixtures import PASSWORD, SCHOOL_A

from empowered.access import audit
from empowered.access.audit import (
    EVENT_TYPES,
    AccessRefused,
    AuditEvent,
    Captured,
    Changed,
    Exported,
    SignedIn,
    SignInFailed,
    ViewedPage,
    ViewedPupil,
    delete_entries_before,
    read_log,
    record,
    sign_in_events,
)
from empowered.access.users import MAX_FAILED_ATTEMPTS, add_user, sign_in

pytestmark = pytest.mark.usefixtures("fast_hashing")

SRC = Path(audit.__file__).resolve().parents[1]
T0 = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)


def test_record_and_read_back(con: duckdb.DuckDBPyConnection) -> None:
    senco = add_user(con, "senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    record(con, SignedIn(), user=senco, ip="127.0.0.1", at=T0)
    record(con, ViewedPupil(pupil_key="pk1", page="wellbeing"), user=senco, at=T0)
    record(con, Exported(page="register", what="csv", rows=12), user=senco, at=T0)
    record(con, Captured(pupil_key="pk2", entity="observation"), user=senco, at=T0)
    log = read_log(con)
    assert [e["event"] for e in log] == ["captured", "exported", "viewed_pupil", "signed_in"]
    newest, _, viewed, signed_in = log
    assert newest["pupil_key"] == "pk2" and newest["detail"] == {"entity": "observation"}
    assert viewed["page"] == "wellbeing" and viewed["detail"] is None
    assert signed_in["ip"] == "127.0.0.1" and signed_in["at"] == T0
    assert {e["user_id"] for e in log} == {senco.user_id}
    assert {e["role"] for e in log} == {"senco"}
    assert log[1]["detail"] == {"what": "csv", "rows": 12}


def test_read_log_filters_and_limits(con: duckdb.DuckDBPyConnection) -> None:
    a = add_user(con, "dsl", PASSWORD, "dsl", school_urn=SCHOOL_A)
    b = add_user(con, "admin", PASSWORD, "trust_admin")
    for i in range(5):
        record(con, ViewedPupil(pupil_key=f"pk{i % 2}", page="home"), user=a)
    record(con, ViewedPage(page="audit"), user=b)
    assert len(read_log(con, limit=3)) == 3
    assert len(read_log(con, user_id=a.user_id)) == 5
    assert len(read_log(con, pupil_key="pk0")) == 3
    assert [e["username"] for e in read_log(con, event="viewed_page")] == ["admin"]
    assert len(read_log(con, user_id=b.user_id, pupil_key="pk0")) == 0


def test_sign_in_events_for_each_outcome(con: duckdb.DuckDBPyConnection) -> None:
    add_user(con, "teacher", PASSWORD, "teacher", school_urn=SCHOOL_A)
    for attempt in range(MAX_FAILED_ATTEMPTS):
        result = sign_in(con, "teacher", "wrong password", now=T0)
        for event in sign_in_events("teacher", result):
            record(con, event, user=result.user, at=T0 + timedelta(seconds=attempt))
    ok = sign_in(con, "teacher", PASSWORD, now=T0 + timedelta(hours=1))
    for event in sign_in_events("teacher", ok):
        record(con, event, user=ok.user)
    events = [e["event"] for e in reversed(read_log(con))]
    assert events == ["sign_in_failed"] * 5 + ["locked_out", "signed_in"]
    failed = read_log(con, event="sign_in_failed")
    assert {e["username"] for e in failed} == {"teacher"} and failed[0]["user_id"] is None
    assert failed[0]["detail"]["outcome"] == "locked"


def test_identity_never_reaches_the_log(con: duckdb.DuckDBPyConnection) -> None:
    upn = "A123456789012"
    record(
        con,
        Changed(
            what="plan",
            pupil_key="pk1",
            detail={"forename": "Alex", "date_of_birth": "2015-01-01", "note": f"UPN {upn}"},
        ),
        user=None,
    )
    record(con, SignInFailed(username=upn, outcome="bad_credentials"), user=None)
    record(con, AccessRefused(page="pupil", pupil_key="pk1", reason="not theirs"), user=None)
    everything = str(con.execute("SELECT * FROM app.audit_log").fetchall())
    assert upn not in everything and "Alex" not in everything and "2015-01-01" not in everything
    changed = read_log(con, event="changed")[0]
    assert changed["detail"]["detail"]["note"] == "UPN (withheld)"


def _subclasses(cls: type) -> list[type]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def test_every_event_names_itself_once() -> None:
    # Every kind of event is registered under its own name, and no two share a name.
    kinds = _subclasses(AuditEvent)
    assert len({c.event for c in kinds}) == len(kinds) == len(EVENT_TYPES)
    for name, cls in EVENT_TYPES.items():
        assert cls.event == name and re.fullmatch(r"[a-z_]+", name)


def _source_files() -> list[Path]:
    return [p for p in SRC.rglob("*") if p.suffix in (".py", ".sql", ".yml") and p.is_file()]


def test_nothing_updates_or_deletes_the_audit_log() -> None:
    writes = re.compile(
        r"\b(UPDATE|DELETE\s+FROM|TRUNCATE(\s+TABLE)?|DROP\s+TABLE(\s+IF\s+EXISTS)?|"
        r"ALTER\s+TABLE|CREATE\s+OR\s+REPLACE\s+TABLE|MERGE\s+INTO)\s+[\"']?app[\"']?\s*\.\s*"
        r"[\"']?audit_log",
        re.IGNORECASE,
    )
    files = _source_files()
    assert len(files) > 50  # the walk really covers the package
    # Adding a column (the hash chain's, to a warehouse made before it) changes no entry.
    additive = re.compile(
        r"ALTER\s+TABLE\s+app\.audit_log\s+ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS\s+\w+\s+VARCHAR\"",
        re.IGNORECASE | re.MULTILINE,
    )
    found = [
        (p.name, len(writes.findall(additive.sub("", p.read_text(encoding="utf-8")))))
        for p in files
    ]
    # The one exception: the retention policy's removal of entries past their period,
    # in audit.py itself, which refuses any entry younger than a year.
    assert [f for f in found if f[1]] == [("audit.py", 1)]
    assert writes.search(inspect.getsource(delete_entries_before))
    # The pattern itself catches what it should.
    assert writes.search("DELETE FROM app.audit_log WHERE TRUE")
    assert writes.search('update "app"."audit_log" set x = 1')


def test_record_is_the_only_insert_into_the_audit_log() -> None:
    inserts = re.compile(r"INSERT\s+(OR\s+\w+\s+)?INTO\s+[\"']?app[\"']?\s*\.\s*[\"']?audit_log",
                         re.IGNORECASE)  # fmt: skip
    found = [
        (p.name, len(inserts.findall(p.read_text(encoding="utf-8"))))
        for p in _source_files()
        if inserts.search(p.read_text(encoding="utf-8"))
    ]
    assert found == [("audit.py", 1)]
    # In the one function every entry ``record`` makes reaches (at once, or at the end of
    # its ``transaction``, a transaction's entries in one statement: issue 11).
    assert inserts.search(inspect.getsource(audit._append_pending))
    assert "_append_pending" in inspect.getsource(record)
