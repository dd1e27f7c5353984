"""The words staff see for an action's codes (kind, where it was agreed, status).

The codes are what the actions entity stores (``sources.canonical``, staging rules 13-15
of ``stg_canonical_actions``); pages never show a code, always these words.
"""

from __future__ import annotations

# What kind of step an action is (issue 13, item 3), in the order the form offers them.
KINDS: tuple[tuple[str, str], ...] = (
    ("move_intervention", "Move the pupil to another intervention"),
    ("refer_specialist", "Refer to a specialist"),
    ("book_training", "Book training"),
    ("meet_family", "Meet the family"),
    ("update_plan", "Update the plan"),
    ("follow_up", "Follow up"),
)
KIND_LABELS: dict[str, str] = dict(KINDS)

# Where an action was agreed: imported files say review, trigger or meeting; the app adds
# the register, the pupil's page and a plan.
SOURCES: tuple[tuple[str, str], ...] = (
    ("review", "At a review"),
    ("trigger", "On a trigger"),
    ("meeting", "At a meeting"),
    ("register", "From the SEND register"),
    ("pupil", "From the pupil's page"),
    ("plan", "From a plan"),
)
SOURCE_LABELS: dict[str, str] = dict(SOURCES)

STATUSES: tuple[tuple[str, str], ...] = (
    ("open", "Open"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
)
STATUS_LABELS: dict[str, str] = dict(STATUSES)

# An imported action names its owner by role; these are the words for the usual ones.
OWNER_ROLE_WORDS: dict[str, str] = {
    "senco": "the SENCo",
    "dsl": "the DSL",
    "teacher": "the class teacher",
    "class_teacher": "the class teacher",
    "teaching_assistant": "the teaching assistant",
    "ta": "the teaching assistant",
    "pastoral": "the pastoral team",
    "therapist": "the therapist",
}


def owner_role_words(role: object) -> str:
    """The words for an imported owner's role ("" when none is given)."""
    code = str(role or "").strip().lower()
    return OWNER_ROLE_WORDS.get(code, code.replace("_", " "))
