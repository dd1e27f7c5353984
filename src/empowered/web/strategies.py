"""Strategies and patterns: what helps whom, the time-slot scatterplot (to be built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
