"""Quick capture on a phone: check-ins, strategies used, ABC incidents (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
