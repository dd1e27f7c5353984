"""Running the ``empowered`` command in-process with a key file of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from empowered.cli import app
from empowered.keys import write_key_file
from empowered.settings import get_settings, use_warehouse
from identity_keys import key_file_contents


def key_file(path: Path, **extra: object) -> Path:
    write_key_file(path, {**key_file_contents(), **extra})
    return path


def run(args: list[str], keys: Path) -> Result:
    """``empowered ARGS`` with ``keys`` as the key file; settings are reset afterwards."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMPOWERED_KEY_FILE", str(keys))
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, args)
        finally:
            use_warehouse(None)
