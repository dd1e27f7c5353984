"""Your account: change your password, set up a second factor (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
