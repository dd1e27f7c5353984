"""The server's local control socket (``<warehouse>.control``): how a command line reaches
the warehouse file the server holds (``empowered.server_control`` is the other end).

Only the machine's own account can use it: the socket is made mode 0600 before it
listens, so connecting needs the server's user (or root), as reading the warehouse file
itself would. It answers only the commands below; anything else gets an error. It is
removed when the server stops (and a stale one, left by a killed server, at the next start).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import stat
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from empowered.server_control import MAX_LINE, control_socket
from empowered.web.backup_schedule import (
    COMMAND_LINE,
    WAIT_FOR_RUNNING_SECONDS,
    BackupBusy,
    BackupNotTaken,
    backups,
)

log = logging.getLogger(__name__)
# The longest path a Unix socket may have (sun_path, less its final NUL).
_MAX_SOCKET_PATH = 107


async def start(app: FastAPI) -> None:
    """Listen on the warehouse's control socket (a path too long for a socket: none)."""
    path = control_socket(Path(app.state.warehouse.path).absolute())
    if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
        log.warning("control socket: the warehouse's path is too long for one; none is made")
        return
    try:
        sock = _listening_socket(path)
    except OSError as err:
        log.warning("control socket: not made (%s)", type(err).__name__)
        return

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            reply = await handle(app, line)
        except (ValueError, asyncio.LimitOverrunError):
            reply = {"ok": False, "error": "The request was too long."}
        writer.write(json.dumps(reply).encode() + b"\n")
        try:
            await writer.drain()
        finally:
            writer.close()

    app.state.control = (await asyncio.start_unix_server(answer, sock=sock, limit=MAX_LINE), path)


async def stop(app: FastAPI) -> None:
    found = getattr(app.state, "control", None)
    if found is None:
        return
    server, path = found
    server.close()
    await server.wait_closed()
    Path(path).unlink(missing_ok=True)
    app.state.control = None


def _listening_socket(path: Path) -> socket.socket:
    """A socket bound at ``path``, readable and writable by this account alone."""
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise FileExistsError(str(path))  # never delete a file that is not ours
        path.unlink()  # left by a server that was killed: the file lock says none runs now
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        # Before listen(): nobody can connect until then, and after it only this account.
        os.chmod(path, 0o600)
    except BaseException:
        sock.close()
        raise
    return sock


async def handle(app: FastAPI, line: bytes) -> dict[str, Any]:
    """The answer to one request line."""
    try:
        request = json.loads(line)
    except ValueError:
        return {"ok": False, "error": "The request was not understood (one JSON line)."}
    if not isinstance(request, dict) or request.get("command") != "backup":
        return {"ok": False, "error": "The server knows one command here: backup."}
    to = request.get("to")
    if not isinstance(to, str) or not Path(to).is_absolute():
        return {"ok": False, "error": "Say where the backup goes, as a full folder path."}
    return await run_in_threadpool(_backup, app, Path(to))


def _backup(app: FastAPI, folder: Path) -> dict[str, Any]:
    try:
        info = backups(app).take(folder, via=COMMAND_LINE, wait=WAIT_FOR_RUNNING_SECONDS)
    except BackupBusy:
        return {"ok": False, "error": "Another backup is still being taken; try again later."}
    except BackupNotTaken as failed:
        return {"ok": False, "error": str(failed)}
    return {
        "ok": True,
        "backup": {
            "path": str(info.path),
            "created_at": info.created_at.isoformat(),
            "size_bytes": info.size_bytes,
            "sha256": info.sha256,
            "row_counts": dict(info.row_counts),
            "seconds": info.seconds,
        },
    }
