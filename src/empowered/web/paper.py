"""Which entries of a long list a printed page keeps (issue 15, item 7: a pupil's page on
two A4 pages).

The print stylesheet hides a list entry marked ``print-skip`` and, under a list marked
``print-cut``, says that paper shows only some and that all of them are on the pupil's page.
Lists whose latest or first entries matter are cut by the stylesheet alone (``nth-child``);
this filter serves the lists where what matters is a property of the entry: the strategies
with a clear change, the ones with enough uses to judge, the triggers still active.
The page on screen keeps every entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.templating import Jinja2Templates

PRINTED_AT_MOST = 3  # entries of one list on paper: as many as the other cut lists keep


def on_paper(
    items: Sequence[Any], attribute: str, *, when: bool = True, most: int = PRINTED_AT_MOST
) -> list[bool]:
    """For each item, whether it is printed: the first ``most`` whose ``attribute`` is
    ``when`` (truthy or not), in the page's order."""
    printed: list[bool] = []
    for item in items:
        keep = bool(getattr(item, attribute)) is when and printed.count(True) < most
        printed.append(keep)
    return printed


def install(templates: Jinja2Templates) -> None:
    templates.env.filters["on_paper"] = on_paper
