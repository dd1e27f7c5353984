"""``empowered backup --to DIR`` while the server holds the warehouse: the command line
cannot open the file, so it asks the server over its control socket (issue 14, item 1)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from test_backups_web import BACKUP_KEY

from empowered.settings import get_settings

SRC = Path(__file__).resolve().parents[2] / "src"
CLI = "from empowered.cli import app; app(prog_name='empowered')"


def serving(warehouse: Path) -> Any:
    from empowered.web.app import create_app

    app = create_app(warehouse)
    app.state.settings = get_settings().model_copy(update={"backup_key": BACKUP_KEY})
    return app


def test_the_command_line_backs_up_through_the_running_server(tmp_path: Path) -> None:
    from empowered.backup import list_backups
    from empowered.server_control import ask_server, control_socket

    warehouse = tmp_path / "w.duckdb"
    app = serving(warehouse)
    where = tmp_path / "copies"
    socket_path = control_socket(warehouse)
    with TestClient(app):  # the server is running: its lifespan listens on the socket
        mode = socket_path.lstat().st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600  # this account only
        done = subprocess.run(
            [sys.executable, "-c", CLI, "backup", "--to", str(where),
             "--warehouse", str(warehouse)],
            env={**os.environ, "PYTHONPATH": str(SRC)},
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "running server" in done.stdout
        (backup,) = list_backups(where)
        assert backup.path.name in done.stdout.replace("\n", "")
        # Only the commands it knows; the rest are answered with a plain refusal.
        refused = ask_server(warehouse, {"command": "shell", "to": "/"})
        assert refused == {"ok": False, "error": "The server knows one command here: backup."}
        relative = ask_server(warehouse, {"command": "backup", "to": "copies"})
        assert relative["ok"] is False and "full folder path" in relative["error"]
        via = app.state.warehouse.reading
        with via() as con:
            logged = con.execute("SELECT via, status FROM app.backup_log").fetchall()
        assert logged == [("command line", "ok")]
    assert not socket_path.exists()  # removed when the server stopped
    json.dumps(backup.row_counts)  # the backup's record is plain data


def test_a_socket_left_by_a_killed_server_is_replaced(tmp_path: Path) -> None:
    import socket

    from empowered.server_control import ask_server, control_socket

    warehouse = tmp_path / "w.duckdb"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(control_socket(warehouse)))  # bound, never listening: a dead server's
    stale.close()
    with TestClient(serving(warehouse)):
        answer = ask_server(warehouse, {"command": "nothing"})
        assert answer["ok"] is False
