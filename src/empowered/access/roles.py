"""The roles a member of staff can hold, with the words people see for them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    TRUST_ADMIN = "trust_admin"
    SENCO = "senco"
    DSL = "dsl"
    TEACHER = "teacher"
    TEACHING_ASSISTANT = "teaching_assistant"
    VISITING_PROFESSIONAL = "visiting_professional"
    TRUST_ANALYST = "trust_analyst"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.TRUST_ADMIN: "Trust administrator",
    Role.SENCO: "SENCo (special educational needs co-ordinator)",
    Role.DSL: "Designated safeguarding lead",
    Role.TEACHER: "Teacher",
    Role.TEACHING_ASSISTANT: "Teaching assistant",
    Role.VISITING_PROFESSIONAL: "Visiting professional",
    Role.TRUST_ANALYST: "Trust analyst",
}

# Roles that work across the whole trust rather than in one school.
TRUST_ROLES = frozenset({Role.TRUST_ADMIN, Role.TRUST_ANALYST})

# The mart areas a pupil's record is split into; a visiting professional is given some.
AREAS = (
    "wellbeing",
    "behaviour",
    "learning",
    "strategies",
    "register",
    "provision",
    "attendance",
    "safeguarding",
)
