"""The pupil page's safeguarding triggers section (issue 15, item 2): the child's triggers
with the DSL's decisions and the actions agreed on them, each open action with a "Mark
done" button for whoever may update it (it posts to ``/actions/{key}/status``, the actions
page's own route, and comes back here).

Shown only where the policy allows ``Section.PUPIL_TRIGGERS`` (those who see the queue).
"""

from __future__ import annotations

from datetime import date

from fastapi import Request

from empowered.access.policy import Scope, may_see_section, may_update_action
from empowered.access.sections import Section
from empowered.views.pupil_triggers import PupilTriggers, pupil_triggers
from empowered.web.deps import pupil_scope
from empowered.web.import_runs import settings_of


def trigger_section(
    request: Request, scope: Scope, pupil_key: str, school_urn: str | None
) -> dict[str, object] | None:
    """The section's context, or None when it is not for this user (or the pupil has no
    school in scope)."""
    if school_urn is None or not may_see_section(scope, Section.PUPIL_TRIGGERS):
        return None
    with request.app.state.warehouse.reading() as con:
        found: PupilTriggers = pupil_triggers(
            con,
            pupil_key,
            school_urn,
            scope=pupil_scope(scope),
            cache=request.app.state.cache,
            today=date.today(),
            keys=settings_of(request.app).keys(),
        )
    actions = [a for t in found.triggers for a in t.actions] + list(found.other_actions)
    return {
        "found": found,
        "updatable": {
            a.action_key for a in actions if may_update_action(scope, a.owner, a.school_urn)
        },
    }
