"""Which entries of a list a printed pupil page keeps (web/paper.py): the first three that
matter, in the page's order, and none that do not."""

from __future__ import annotations

from dataclasses import dataclass

from empowered.web.paper import on_paper


@dataclass(frozen=True)
class Entry:
    clear: bool
    not_enough: str | None = None


def test_the_first_three_that_matter_are_printed_in_order() -> None:
    entries = [Entry(c) for c in (False, True, True, False, True, True, True)]
    assert on_paper(entries, "clear") == [False, True, True, False, True, False, False]


def test_none_printed_when_none_matters_and_all_when_asked() -> None:
    assert on_paper([Entry(False)] * 4, "clear") == [False] * 4
    judged = [Entry(True, None), Entry(True, "too few uses"), Entry(False, None)]
    assert on_paper(judged, "not_enough", when=False) == [True, False, True]
    assert on_paper([Entry(True)] * 5, "clear", most=5) == [True] * 5
