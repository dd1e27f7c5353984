"""Import through the server: upload files, the import report, quarantined rows (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
