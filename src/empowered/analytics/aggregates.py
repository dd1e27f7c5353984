"""The register of every analytics function that shows figures about more than one pupil.

Each registered function takes ``(con, *, school_urn)`` and returns an object with a
``table`` attribute holding a :class:`~empowered.analytics.disclosure.DisclosedTable`, so
its counts have been through the one suppression function. A test walks this register on
a built warehouse and checks no count of 1-4 is visible anywhere; a new aggregate that is
not registered fails the test that looks for aggregates outside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

MULTI_PUPIL: dict[str, Callable[..., Any]] = {}


def multi_pupil(fn: F) -> F:
    MULTI_PUPIL[f"{fn.__module__}.{fn.__name__}"] = fn
    return fn
