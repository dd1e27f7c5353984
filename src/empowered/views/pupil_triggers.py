"""A child's safeguarding triggers on their page (issue 15, item 2): each trigger with its
status, the DSL's decision and review history, and the actions agreed on it.

Triggers come from :mod:`empowered.views.triggers` (the same cards and statuses as the
queue, resolved ones included, so nothing is lost from the history); actions from
:mod:`empowered.views.actions`, those agreed "on a trigger" (the queue's "Agree an action"
link), matched to their trigger by the reference the link carries. Who may see the section
is the policy's (``Section.PUPIL_TRIGGERS``); this module only gathers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from empowered.keys import Keys
from empowered.views import PupilScope
from empowered.views.actions import ActionItem, list_actions
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.trigger_queue import school_cards
from empowered.views.triggers import TriggerCard

TRIGGER_SOURCE = "trigger"  # the actions entity's code for "agreed on a trigger"


@dataclass(frozen=True)
class TriggerWithActions:
    card: TriggerCard
    actions: tuple[ActionItem, ...]

    @property
    def in_hand(self) -> bool:
        """Still active, or with an action agreed on it still open: what a printed page keeps
        (the page on screen keeps the resolved ones too, for their history)."""
        return self.card.item.is_active or any(a.is_open for a in self.actions)


@dataclass(frozen=True)
class PupilTriggers:
    triggers: tuple[TriggerWithActions, ...]  # newest first
    other_actions: tuple[ActionItem, ...]  # agreed on a trigger no longer in the queue

    @property
    def empty(self) -> bool:
        return not self.triggers and not self.other_actions


def pupil_triggers(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    school_urn: str,
    *,
    scope: PupilScope,
    cache: SchoolAnalyticsCache | None,
    today: date,
    keys: Keys | None = None,
) -> PupilTriggers:
    cards = sorted(
        school_cards(con, school_urn, scope=scope, cache=cache, pupil_key=pupil_key),
        key=lambda c: c.item.last_fired_on,
        reverse=True,
    )
    actions = [
        a
        for a in list_actions(
            con,
            schools=frozenset({school_urn}),
            owner=None,
            reader_scope=scope,
            today=today,
            keys=keys,
            pupil_key=pupil_key,
        )
        if a.source == TRIGGER_SOURCE
    ]
    ids = {c.trigger_id for c in cards}
    return PupilTriggers(
        triggers=tuple(
            TriggerWithActions(c, tuple(a for a in actions if a.ref == c.trigger_id)) for c in cards
        ),
        other_actions=tuple(a for a in actions if a.ref not in ids),
    )
