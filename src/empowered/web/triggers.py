"""Triggers and early signs: the review queue, acknowledge, act, decide (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
