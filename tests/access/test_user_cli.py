"""``empowered user ...``: add, list, reset-password and disable, as an administrator would."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from access_fixtures import PASSWORD, SCHOOL_A, in_a_month
from typer.testing import CliRunner

from empowered.access.audit import read_log
from empowered.access.users import find_user, sign_in
from empowered.cli import app

pytestmark = pytest.mark.usefixtures("fast_hashing")

runner = CliRunner()


def _con(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path))


def test_add_with_a_prompt_then_list(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    added = runner.invoke(
        app,
        ["user", "add", "senco@school.example", "--role", "senco", "--school", SCHOOL_A,
         "--warehouse", str(warehouse)],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Added senco@school.example" in added.output
    assert PASSWORD not in added.output  # hide_input: the password is not echoed

    listed = runner.invoke(app, ["user", "list", "--warehouse", str(warehouse)])
    assert listed.exit_code == 0, listed.output
    assert "senco@school.example" in listed.output and SCHOOL_A in listed.output
    assert "$argon2" not in listed.output and PASSWORD not in listed.output

    con = _con(warehouse)
    assert sign_in(con, "senco@school.example", PASSWORD).outcome == "ok"
    assert [e["event"] for e in read_log(con)] == ["user_added"]
    con.close()


def test_add_a_visitor_from_stdin(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    expires = in_a_month().isoformat()
    added = runner.invoke(
        app,
        ["user", "add", "ep.visitor", "--role", "visiting_professional", "--school", SCHOOL_A,
         "--pupil", "pk1", "--pupil", "pk'2", "--area", "wellbeing", "--area", "learning",
         "--expires", expires, "--password-stdin", "--warehouse", str(warehouse)],
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    con = _con(warehouse)
    visitor = find_user(con, "ep.visitor")
    assert visitor is not None
    assert visitor.pupils == ("pk'2", "pk1") and visitor.areas == ("learning", "wellbeing")
    assert visitor.expires_on is not None and visitor.expires_on.isoformat() == expires
    con.close()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--role", "visiting_professional", "--school", SCHOOL_A], "pupils"),
        (["--role", "senco"], "needs a school"),
        (["--role", "wizard", "--school", SCHOOL_A], "Unknown role"),
        (["--role", "senco", "--school", SCHOOL_A, "--expires", "next week"], "--expires"),
    ],
)
def test_add_refuses_with_a_reason(tmp_path: Path, extra: list[str], words: str) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = runner.invoke(
        app,
        ["user", "add", "someone", *extra, "--password-stdin", "--warehouse", str(warehouse)],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code != 0
    assert words in result.output


def test_a_weak_password_is_refused(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = runner.invoke(
        app,
        ["user", "add", "admin", "--role", "trust_admin", "--password-stdin",
         "--warehouse", str(warehouse)],
        input="short\n",
    )  # fmt: skip
    assert result.exit_code == 1 and "12 characters" in result.output


def test_reset_password_and_disable(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    base = ["--warehouse", str(warehouse)]
    runner.invoke(
        app,
        ["user", "add", "admin", "--role", "trust_admin", "--password-stdin", *base],
        input=f"{PASSWORD}\n",
    )
    new = "kettle orbit maple quartz"
    reset = runner.invoke(app, ["user", "reset-password", "admin", *base], input=f"{new}\n{new}\n")
    assert reset.exit_code == 0, reset.output
    missing = runner.invoke(
        app, ["user", "reset-password", "nobody", "--password-stdin", *base], input=f"{new}\n"
    )
    assert missing.exit_code == 1 and "no account" in missing.output
    con = _con(warehouse)
    assert sign_in(con, "admin", PASSWORD).outcome == "bad_credentials"
    assert sign_in(con, "admin", new).outcome == "ok"
    con.close()

    disabled = runner.invoke(app, ["user", "disable", "admin", *base])
    assert disabled.exit_code == 0, disabled.output
    listed = runner.invoke(app, ["user", "list", *base])
    assert "switched off" in listed.output
    con = _con(warehouse)
    assert sign_in(con, "admin", new).outcome == "disabled"
    events = [e["event"] for e in reversed(read_log(con))]
    assert events == ["user_added", "password_reset", "user_changed"]
    con.close()
