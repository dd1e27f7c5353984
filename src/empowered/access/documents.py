"""The documents that leave the school, and what each one may hold: THE redaction rules.

This is data, read by :func:`empowered.access.policy.may_make_document` (who may make one)
and :func:`empowered.access.policy.document_scope` (what it may hold). A document is made
through the same view services as the pages, with a scope that is the user's own narrowed
to the sections and areas listed here: a section left out of a document's rule is never
fetched for it, so it cannot reach the paper, whoever asks for the document.

Why each document holds what it holds:

- **Parent report** (SEN Code of Practice 6.75): for the child's parents or carers. Their
  child's plan and how it is going, the support from the provision map, attendance,
  assessments, mood, and what was agreed at the last review. Never safeguarding (triggers,
  concerns, the chronology), never staff-only notes (the SENCo's note, visiting
  professionals' working notes), never early-warning measures or model outputs (early
  signs, lasting changes, situations that are harder), never incidents (they name or
  describe other children). Counts are not in it at all: it is about one child.
- **One-page profile**: for staff new to the child and supply staff, inside the school. What
  people like about the child, what is important to them, how best to support them and
  what helps: the plan and the strategies that helped. Nothing else.
- **EHC needs-assessment evidence pack** (Code of Practice 6.73): for the local authority.
  The graduated approach in full (plans, reviews, provision with costs, assessments,
  attendance, behaviour summary, professionals' reports, the child's and parents' views),
  but never safeguarding records or staff-only notes, and no early-warning scores: an
  authority's panel decides on evidence of need and of support given, not on our models.
- **Termly register review pack**: for the school's leaders (and, rolled up, the trust).
  The register, provision, attendance and interventions as counts; overdue reviews and
  open actions; the SENCo's one-line notes for complex cases. No safeguarding. The trust
  pack names no child and suppresses small counts (``leaves_school``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from empowered.access.sections import Section

S = Section


class DocumentKind(StrEnum):
    PARENT = "parent"
    PROFILE = "profile"
    EHC_EVIDENCE = "ehc-evidence"
    REVIEW_PACK = "review-pack"
    TRUST_REVIEW_PACK = "trust-review-pack"


@dataclass(frozen=True)
class DocumentRule:
    """``sections`` and ``areas``: the only ones the document may draw on (narrowing the
    user's own); ``permissions``: every one is needed to make it; ``names_pupils``: whether
    a child's name may appear; ``leaves_school``: counts over several pupils are
    suppressed; ``about``: "pupil" (one child) or "school" (a school or the trust)."""

    title: str
    audience: str
    about: str
    sections: frozenset[Section]
    areas: frozenset[str]
    permissions: tuple[str, ...]
    names_pupils: bool
    leaves_school: bool
    trust_wide: bool = False  # only for a scope of every school (the trust pack)


# Sections of the pupil page that hold safeguarding, staff-only notes or early-warning and
# model outputs: no document for parents or the local authority draws on any of them.
NEVER_FOR_FAMILIES: frozenset[Section] = frozenset(
    {
        S.PUPIL_NOTE,
        S.PUPIL_EARLY_SIGNS,
        S.PUPIL_TRIGGERS,
        S.PUPIL_CHRONOLOGY,
        S.PUPIL_RECORD_CONCERN,
        S.PUPIL_CHANGES,
        S.PUPIL_HARDER,
        S.CHRONOLOGY,
        S.CONCERNS_LIST,
        S.TRIGGERS_QUEUE,
        S.TRIGGERS_EARLY_SIGNS,
        S.HOME_TRIGGERS,
        S.HOME_EARLY_SIGNS,
        S.HOME_CONCERNS,
    }
)

# What every document about one child starts from: who they are, their SEN status, their
# plan and what helps them.
_CHILD = frozenset(
    {
        S.PUPIL_IDENTITY,
        S.PUPIL_STATUS,
        S.PUPIL_PLANS,
        S.PLAN_DETAILS,
        S.PLAN_WHAT_HELPS,
        S.PUPIL_WHAT_HELPS,
    }
)
# How the child is getting on, as parents and the local authority both read it.
_PROGRESS = frozenset(
    {S.PUPIL_PROVISION, S.PUPIL_ATTENDANCE, S.PUPIL_ASSESSMENTS, S.PUPIL_WELLBEING, S.REVIEWS_HELD}
)
# The register's figures, as the register and provision pages show them.
_REGISTER = frozenset(
    {
        S.REGISTER_COUNTS,
        S.REGISTER_QUESTIONS,
        S.REGISTER_ATTENDANCE,
        S.REGISTER_PROVISION,
        S.PROVISION_MAP,
        S.STRATEGY_EFFECTS,
        S.HOME_PLAN_REVIEWS,
        S.HOME_NEEDS_WITHOUT_PROVISION,
    }
)
_PACK_AREAS = frozenset({"register", "provision", "strategies", "attendance", "learning"})

DOCUMENT_RULES: dict[DocumentKind, DocumentRule] = {
    DocumentKind.PARENT: DocumentRule(
        title="Report for parents and carers",
        audience="the child's parents or carers",
        about="pupil",
        sections=_CHILD | _PROGRESS,
        areas=frozenset(
            {"register", "provision", "strategies", "attendance", "learning", "wellbeing"}
        ),
        permissions=("hold_reviews", "export"),
        names_pupils=True,
        leaves_school=True,
    ),
    DocumentKind.PROFILE: DocumentRule(
        title="One-page profile",
        audience="staff new to the child and supply staff",
        about="pupil",
        sections=_CHILD,
        areas=frozenset({"register", "strategies"}),
        # School staff who work with the child (a teacher printing it for a supply
        # colleague); not a visitor, not the analyst.
        permissions=("print_profile",),
        names_pupils=True,
        leaves_school=False,
    ),
    DocumentKind.EHC_EVIDENCE: DocumentRule(
        title="Evidence for an EHC needs assessment",
        audience="the local authority",
        about="pupil",
        # Besides what parents read: behaviour (counts by term, never incident narratives),
        # professionals' reports, the annual review calendar and the session registers.
        sections=_CHILD
        | _PROGRESS
        | {S.PUPIL_BEHAVIOUR, S.PUPIL_CONTRIBUTIONS, S.REVIEWS_EHC_CALENDAR, S.PROVISION_SESSIONS},
        areas=frozenset(
            {
                "register",
                "provision",
                "strategies",
                "attendance",
                "learning",
                "wellbeing",
                "behaviour",
            }
        ),
        permissions=("hold_reviews", "export"),
        names_pupils=True,
        leaves_school=True,
    ),
    DocumentKind.REVIEW_PACK: DocumentRule(
        title="Termly register review",
        audience="the school's leaders",
        about="school",
        # Stays in the school: the pupils named, with the SENCo's one-line notes on complex
        # cases and the open actions.
        sections=_REGISTER
        | {S.REGISTER_LIST, S.ACTIONS_SCHOOL, S.PUPIL_NOTE, S.PUPIL_PLANS}
        | {S.PUPIL_STATUS, S.PUPIL_IDENTITY},
        areas=_PACK_AREAS,
        permissions=("export", "view_register"),
        names_pupils=True,
        leaves_school=False,
    ),
    DocumentKind.TRUST_REVIEW_PACK: DocumentRule(
        title="Termly register review for the trust",
        audience="the trust's leaders and board",
        about="school",
        # Each school's figures side by side, suppressed (plan reviews overdue among them,
        # as counts: never a pupil, the pack is unidentified).
        sections=_REGISTER | {S.HOME_SCHOOLS_SIDE_BY_SIDE},
        areas=_PACK_AREAS,
        permissions=("export", "view_register"),
        names_pupils=False,
        leaves_school=True,
        trust_wide=True,
    ),
}

# The documents about one child, in the order the pupil page offers them.
PUPIL_DOCUMENTS: tuple[DocumentKind, ...] = (
    DocumentKind.PARENT,
    DocumentKind.PROFILE,
    DocumentKind.EHC_EVIDENCE,
)
