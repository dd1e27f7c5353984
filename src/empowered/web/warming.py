"""Warming the analytics cache at start and after each build (to be built)."""

from __future__ import annotations

from fastapi import FastAPI


def start(app: FastAPI) -> None:
    """Warm the cache in the background when the server starts."""


def after_build(app: FastAPI) -> None:
    """The warehouse was rebuilt (an import, a capture): warm the cache for the new build.

    The cache drops results of an older build by itself (it is keyed on the build id), so
    this only saves the next visitor the wait."""
