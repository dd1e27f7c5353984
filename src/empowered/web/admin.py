"""Admin: users, roles, classes and groups, trigger rules, retention (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
