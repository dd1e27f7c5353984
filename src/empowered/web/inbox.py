"""The inbox folder the server watches while it runs (to be built)."""

from __future__ import annotations

from fastapi import FastAPI


def start(app: FastAPI) -> None:
    """Begin watching the inbox folder, if one is configured."""


def stop(app: FastAPI) -> None:
    """Stop watching."""
