"""Asking the running server to do something that needs the warehouse file it holds.

While ``empowered serve`` runs, DuckDB lets no other process open the file, so a command
such as ``empowered backup --to DIR`` cannot read it. The server listens instead on a
local control socket beside the warehouse (``<warehouse>.control``, see
``web/control.py``): a Unix domain socket, mode 0600, so only the account the server runs
as (and root) can connect; nothing on the network can reach it. One JSON line asks, one
JSON line answers.

The commands it knows: ``{"command": "backup", "to": "/absolute/folder"}``, answered with
``{"ok": true, "backup": {...}}`` (the backup's details) or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

# A request or answer longer than this is refused: every one is a line of a few hundred bytes.
MAX_LINE = 1024 * 1024
# A backup of a trust's warehouse takes minutes; the command waits this long at most.
ANSWER_SECONDS = 4 * 3600.0


class ServerNotListening(Exception):
    """No server answers on the warehouse's control socket."""


def control_socket(warehouse: Path) -> Path:
    """Where the server serving ``warehouse`` listens."""
    return warehouse.with_name(warehouse.name + ".control")


def ask_server(
    warehouse: Path, request: dict[str, Any], *, timeout: float = ANSWER_SECONDS
) -> dict[str, Any]:
    """Send one request to the server holding ``warehouse`` and return its answer."""
    path = control_socket(warehouse)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        try:
            conn.connect(str(path))
        except OSError as err:  # no socket, a stale one, or a path too long for one
            raise ServerNotListening(str(path)) from err
        conn.sendall(json.dumps(request).encode() + b"\n")
        with conn.makefile("rb") as answer:
            line = answer.readline(MAX_LINE)
    if not line:
        raise ServerNotListening(str(path))
    found: dict[str, Any] = json.loads(line)
    return found
