"""THE one place that decides who may see and do what. Nothing else checks roles.

Staff see only what their role needs. Each role's permissions:

| permission        | trust admin | SENCo | DSL | teacher | TA  | visitor  | analyst |
|-------------------|-------------|-------|-----|---------|-----|----------|---------|
| VIEW_HOME         | yes         | yes   | yes | yes     | yes | yes      |         |
| VIEW_PUPIL        | yes         | yes   | yes | yes     | yes | yes      |         |
| VIEW_IDENTITY     | yes         | yes   | yes | yes     | yes | yes      |         |
| VIEW_REGISTER     | yes         | yes   |     |         |     | if area  |         |
| VIEW_PROVISION    | yes         | yes   |     |         |     | if area  |         |
| VIEW_STRATEGIES   | yes         | yes   |     | yes     | yes | if area  |         |
| VIEW_TRIGGERS     | yes         | yes   | yes |         |     |          |         |
| ACT_ON_TRIGGERS   |             |       | yes |         |     |          |         |
| VIEW_SAFEGUARDING | yes         |       | yes |         |     | if area  |         |
| CAPTURE           |             | yes   |     | yes     | yes |          |         |
| WRITE_PUPIL_NOTE  |             | yes   |     |         |     |          |         |
| CONTRIBUTE        |             | yes   |     |         |     | yes      |         |
| HOLD_REVIEWS      |             | yes   |     |         |     |          |         |
| WRITE_PLANS       |             | yes   |     |         |     |          |         |
| IMPORT            | yes         | yes   |     |         |     |          |         |
| IMPORT_CATALOGUES | yes         |       |     |         |     |          |         |
| EXPORT            | yes         | yes   |     |         |     |          |         |
| ADMIN_USERS       | yes         |       |     |         |     |          |         |
| VIEW_AUDIT        | yes         |       | yes |         |     |          |         |
| VIEW_AGGREGATES   | yes         | yes   |     |         |     |          | yes     |
| SUBJECT_ACCESS    | yes         |       |     |         |     |          |         |
| AGREE_ACTIONS     |             | yes   | yes |         |     |          |         |
| OWN_ACTIONS       |             | yes   | yes | yes     | yes |          |         |
| VIEW_SCHOOL_ACTIONS | yes       | yes   | yes |         |     |          |         |
| MANAGE_PROVISION  | yes         | yes   |     |         |     |          |         |
| RECORD_SESSIONS   |             | yes   |     | yes     | yes |          |         |
| RECORD_CONCERN    |             | yes   | yes | yes     | yes |          |         |
| VIEW_CONCERNS     |             |       | yes |         |     |          |         |
| MANAGE_BACKUPS    | yes         |       |     |         |     |          |         |
| PRINT_PROFILE     | yes         | yes   | yes | yes     | yes |          |         |

Which pupils (``Scope``): a trust admin and a trust analyst cover every school; a SENCo
and a DSL every pupil at their school; a teacher the members of their classes and groups
(``core.bridge_group_member``) plus any pupils named on their account; a teaching
assistant their assigned pupils (and groups, if given); a visiting professional only the
pupils named on their account, read-only (but for their own notes and reports:
CONTRIBUTE), only in the areas chosen for them, until their expiry date. A disabled or
expired account has an empty scope: no permission at all.

Decisions worth knowing:
- The trust admin does not CAPTURE (observations come from staff who were there) and does
  not ACT_ON_TRIGGERS (closing a safeguarding concern is the DSL's professional duty).
- The SENCo views triggers but the DSL acts on them; the audit page is for admins and DSLs.
- Plan reviews (and an EHC plan's annual review steps) are held and recorded by the
  SENCo, who meets the parents (Code of Practice 6.72-6.77); the trust admin, who is at
  no meeting, reads them with the register area but records none.
- The one-sentence note on a complex child's page is the SENCo's to write (they hold the
  whole SEN picture); everyone who opens the page reads it.
- Plans (a SEN support plan, an EHC plan's outcomes) are written and agreed by the SENCo,
  who holds the SEN picture and meets the family; the trust admin does not write them.
  Whoever may see the register area reads them (the pupil page's plans section and the
  plan page alike).
- Teaching assistants see strategies: they are the ones who use them with the pupil.
- Provision management (``/provision/...``): the SENCo keeps the school's intervention
  catalogue entries, groups and enrolments (MANAGE_PROVISION at their school); the trust
  admin keeps only the trust-wide catalogue (``may_manage_catalogue``) and reads the groups.
  RECORD_SESSIONS: a teacher or assistant records the session register of the
  groups they run, the SENCo of any group at the school (``may_record_sessions``); whoever
  may record a group's register sees its members' names there, and nothing else of them.
- A visiting professional (an educational psychologist, a speech and language therapist)
  CONTRIBUTEs notes and reports about their named pupils, in the areas chosen for them,
  until their expiry date: the one write a read-only scope keeps (``READ_ONLY_KEEPS``),
  since what they assessed is theirs to record. The SENCo contributes too (advice received
  by post or in a meeting, in any area); ``may_contribute`` decides per pupil and area.
  A contribution is read by whoever may see its area for that pupil (``may_see_contribution``).
- The trust analyst has VIEW_AGGREGATES only: pseudonymised aggregates with disclosure
  control, never identity, never one pupil's page. Their row filter covers the trust so
  aggregates can be computed; ``can_see_pupil`` is still False for every pupil.
- Pupil pages are split into areas (wellbeing, behaviour, learning, attendance on the
  pupil page; register, provision, strategies, safeguarding behind their own permission).
- Every section of every page (``access.sections``) is shown only if ``may_see_section``
  says so; timeline entries and early-sign measures carry their own area. Trigger cards
  need VIEW_TRIGGERS wherever they appear (not teachers, assistants or visitors), the
  pupil page's triggers section too (``Section.PUPIL_TRIGGERS``: the child's triggers, the
  DSL's decisions and the actions agreed on them; issue 15).
- Actions (issue 13, item 3): the SENCo and the DSL agree them (they run the graduated
  approach and the trigger queue, and hold every pupil of the school); any member of
  school staff (SENCo, DSL, teacher, TA) may OWN one, and an owner may always update the
  status of their own action (``may_update_action``), as may whoever agrees actions at
  its school; a teacher does not raise them (they are agreed at a review or a meeting the
  SENCo or DSL holds). An action is given only to an account that may see its pupil
  (``may_own_action``). The school's list is for the SENCo and the DSL (and the trust
  admin, read only): both see every action, including those agreed on a trigger, since
  both read the trigger queue and an action names a step, not the concern (concerns
  themselves stay the DSL's). Everyone else sees the actions they own.
- Any member of staff at a school RECORDs a safeguarding CONCERN (Keeping children safe in
  education: everyone who works with children reports what worries them) but reads none
  afterwards, their own included: they get a receipt. Only the DSL has VIEW_CONCERNS, for
  their own school, with the child's chronology; a concern the DSL shares with a named
  staff account of the school is readable by that account too (``may_read_concern``).
  Not the SENCo, not visitors (a visitor's safeguarding area is the trigger marts, never
  the concerns), and not the trust admin: a concern is a school's child protection record,
  held by its DSL; a trust-wide role reading every school's concerns is not needed for
  anything the admin does (accounts, imports) and would widen who holds the most sensitive
  words the app keeps. The analyst never.
- Backups (issue 14): the trust admin, who runs the service for the trust, sees when the
  last backup was taken, is warned on the home page when it is old or failed, and may
  take one at once (MANAGE_BACKUPS). A backup holds everything, so no one else.
- The trust admin's and the trust analyst's home is the trust's schools side by side
  (``Section.HOME_SCHOOLS_SIDE_BY_SIDE``, ``may_compare_schools``): "which school needs
  help" before any child. A school's name leads to its page (``may_open_school``): what
  needs attention there, for whoever may compare schools, or a SENCo for their own school
  (VIEW_AGGREGATES in scope); another school's page is answered "not found". The analyst
  sees the open-trigger and overdue-review columns as suppressed counts, as the per-school
  summary they had before.
- Counts over several pupils are suppressed (``must_suppress``) for aggregate-only roles
  and for any document that leaves the school; staff who may open each pupil see them
  exact.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import duckdb

from empowered.access.documents import DOCUMENT_RULES, DocumentKind
from empowered.access.roles import AREAS, Role
from empowered.access.sections import SECTION_RULES, Section
from empowered.access.users import User
from empowered.warehouse.connection import table_exists


class Permission(StrEnum):
    VIEW_HOME = "view_home"
    VIEW_PUPIL = "view_pupil"
    VIEW_IDENTITY = "view_identity"
    VIEW_REGISTER = "view_register"
    VIEW_PROVISION = "view_provision"
    VIEW_STRATEGIES = "view_strategies"
    VIEW_TRIGGERS = "view_triggers"
    ACT_ON_TRIGGERS = "act_on_triggers"
    VIEW_SAFEGUARDING = "view_safeguarding"
    CAPTURE = "capture"
    WRITE_PUPIL_NOTE = "write_pupil_note"
    # Write, edit and agree a pupil's SEN support plan or EHC plan outcomes.
    WRITE_PLANS = "write_plans"
    IMPORT = "import"
    EXPORT = "export"
    ADMIN_USERS = "admin_users"
    VIEW_AUDIT = "view_audit"
    VIEW_AGGREGATES = "view_aggregates"
    # Change the trust-wide catalogues (strategies, interventions) through an import.
    IMPORT_CATALOGUES = "import_catalogues"
    # Export everything held about one pupil (a subject access request): identity from
    # every school, so only the trust administrator, who answers for the trust as controller.
    SUBJECT_ACCESS = "subject_access"
    # Agree an action for a pupil and give it to a member of staff (issue 13, item 3).
    AGREE_ACTIONS = "agree_actions"
    # Be given actions: "My actions", "Your actions" on the home page, mark them done.
    OWN_ACTIONS = "own_actions"
    # See every action of the school (open, overdue, done), filterable.
    VIEW_SCHOOL_ACTIONS = "view_school_actions"
    # Keep the intervention catalogue, groups and enrolments (provision management).
    MANAGE_PROVISION = "manage_provision"
    # Record an intervention group's session register (delivered, missed, who attended).
    RECORD_SESSIONS = "record_sessions"
    # Add a note or a report (PDF) about a pupil, in an area: a visiting professional's
    # contribution (issue 13, item 6).
    CONTRIBUTE = "contribute"
    # Record a plan review meeting and the steps of an EHC plan's annual review.
    HOLD_REVIEWS = "hold_reviews"
    # Record a safeguarding concern about a pupil (any member of staff at the school).
    RECORD_CONCERN = "record_concern"
    # Read a school's safeguarding concerns and a child's chronology (the DSL).
    VIEW_CONCERNS = "view_concerns"
    # See the backups and their age, be warned when they are old, take one now.
    MANAGE_BACKUPS = "manage_backups"
    # Print a child's one-page profile for a colleague new to them or a supply teacher
    # (issue 16): school staff who work with the child, not visitors or the analyst.
    PRINT_PROFILE = "print_profile"


P = Permission
_PUPIL_PAGE = frozenset({P.VIEW_HOME, P.VIEW_PUPIL, P.VIEW_IDENTITY})
# Teachers and teaching assistants: the same permissions over different pupils (their
# classes and groups; their assigned pupils).
_CLASSROOM = _PUPIL_PAGE | {
    P.VIEW_STRATEGIES,
    P.CAPTURE,
    P.OWN_ACTIONS,
    P.RECORD_SESSIONS,
    P.RECORD_CONCERN,
    P.PRINT_PROFILE,
}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.TRUST_ADMIN: frozenset(P)
    - {
        P.CAPTURE,
        P.ACT_ON_TRIGGERS,
        P.WRITE_PUPIL_NOTE,
        P.AGREE_ACTIONS,
        P.OWN_ACTIONS,
        P.RECORD_SESSIONS,
        P.CONTRIBUTE,
        P.HOLD_REVIEWS,
        P.WRITE_PLANS,
        P.RECORD_CONCERN,
        P.VIEW_CONCERNS,
    },
    Role.SENCO: _PUPIL_PAGE
    | {
        P.VIEW_REGISTER,
        P.VIEW_PROVISION,
        P.VIEW_STRATEGIES,
        P.VIEW_TRIGGERS,
        P.CAPTURE,
        P.WRITE_PUPIL_NOTE,
        P.CONTRIBUTE,
        P.WRITE_PLANS,
        P.IMPORT,
        P.EXPORT,
        P.VIEW_AGGREGATES,
        P.AGREE_ACTIONS,
        P.OWN_ACTIONS,
        P.VIEW_SCHOOL_ACTIONS,
        P.MANAGE_PROVISION,
        P.RECORD_SESSIONS,
        P.HOLD_REVIEWS,
        P.RECORD_CONCERN,
        P.PRINT_PROFILE,
    },
    Role.DSL: _PUPIL_PAGE
    | {
        P.PRINT_PROFILE,
        P.VIEW_SAFEGUARDING,
        P.VIEW_TRIGGERS,
        P.ACT_ON_TRIGGERS,
        P.VIEW_AUDIT,
        P.AGREE_ACTIONS,
        P.OWN_ACTIONS,
        P.VIEW_SCHOOL_ACTIONS,
        P.RECORD_CONCERN,
        P.VIEW_CONCERNS,
    },
    Role.TEACHER: _CLASSROOM,
    Role.TEACHING_ASSISTANT: _CLASSROOM,
    # Area-bound permissions below are further limited to the visitor's chosen areas.
    Role.VISITING_PROFESSIONAL: _PUPIL_PAGE
    | {P.VIEW_REGISTER, P.VIEW_PROVISION, P.VIEW_STRATEGIES, P.VIEW_SAFEGUARDING, P.CONTRIBUTE},
    Role.TRUST_ANALYST: frozenset({P.VIEW_AGGREGATES}),
}

# Areas with a permission of their own; the rest belong to the pupil page.
AREA_PERMISSIONS: Mapping[str, Permission] = {
    "wellbeing": P.VIEW_PUPIL,
    "behaviour": P.VIEW_PUPIL,
    "learning": P.VIEW_PUPIL,
    "attendance": P.VIEW_PUPIL,
    "register": P.VIEW_REGISTER,
    "provision": P.VIEW_PROVISION,
    "strategies": P.VIEW_STRATEGIES,
    "safeguarding": P.VIEW_SAFEGUARDING,
}
_AREA_OF: dict[Permission, str] = {
    p: a for a, p in AREA_PERMISSIONS.items() if p is not P.VIEW_PUPIL
}

# Permissions that change something; a read-only scope never has them.
WRITE_PERMISSIONS = frozenset(
    {
        P.CAPTURE,
        P.WRITE_PUPIL_NOTE,
        P.WRITE_PLANS,
        P.IMPORT,
        P.ACT_ON_TRIGGERS,
        P.ADMIN_USERS,
        P.IMPORT_CATALOGUES,
        P.AGREE_ACTIONS,
        P.OWN_ACTIONS,
        P.MANAGE_PROVISION,
        P.RECORD_SESSIONS,
        P.CONTRIBUTE,
        P.HOLD_REVIEWS,
        P.RECORD_CONCERN,
        P.MANAGE_BACKUPS,
    }
)
# The writes a read-only scope still has: a visiting professional records what they
# assessed (their own notes and reports), and changes nothing else.
READ_ONLY_KEEPS = frozenset({P.CONTRIBUTE})

_READ_ONLY_ROLES = frozenset({Role.VISITING_PROFESSIONAL, Role.TRUST_ANALYST})
_WHOLE_SCHOOL_ROLES = frozenset({Role.SENCO, Role.DSL})


@dataclass(frozen=True)
class Scope:
    """What one user may see today.

    ``schools``: None means every school; ``pupils``: None means every pupil in
    ``schools``; ``areas``: None means every area. An empty ``schools`` means no access at
    all (a disabled or expired account). ``school_pupils`` holds the pupils on roll at
    ``schools`` (from core.fct_enrolment) for roles that see whole schools, so a question
    about one pupil can be answered without knowing the pupil's school.
    """

    user: User
    schools: frozenset[str] | None
    pupils: frozenset[str] | None
    identified: bool
    areas: frozenset[str] | None
    read_only: bool
    school_pupils: frozenset[str] | None = None

    @property
    def empty(self) -> bool:
        return self.schools is not None and not self.schools


def _keys(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> frozenset[str]:
    # The set removes repeats: the SQL needs no DISTINCT (a hash aggregate per request).
    return frozenset(str(k) for (k,) in con.execute(sql, params).fetchall())


def empty_scope(user: User) -> Scope:
    return Scope(
        user=user,
        schools=frozenset(),
        pupils=frozenset(),
        identified=False,
        areas=frozenset(),
        read_only=True,
    )


# The marts scope_for reads: a scope kept between requests is kept per their version.
SCOPE_TABLES = ("core.fct_enrolment", "core.bridge_group_member")


def scope_for(con: duckdb.DuckDBPyConnection, user: User, *, today: date) -> Scope:
    """Work out the schools, pupils and areas ``user`` may see on ``today``."""
    if user.disabled or user.is_expired(today):
        return empty_scope(user)
    role = user.role
    identified = P.VIEW_IDENTITY in ROLE_PERMISSIONS[role]
    read_only = role in _READ_ONLY_ROLES
    if user.school_urn is None:
        # Trust-wide roles; a school role saved without a school sees nothing (fail closed).
        if role in (Role.TRUST_ADMIN, Role.TRUST_ANALYST):
            return Scope(user, None, None, identified, None, read_only)
        return empty_scope(user)
    schools = frozenset({user.school_urn})
    if role in _WHOLE_SCHOOL_ROLES:
        on_roll = frozenset[str]()
        if table_exists(con, "core", "fct_enrolment"):
            on_roll = _keys(
                con,
                "SELECT pupil_key FROM core.fct_enrolment WHERE school_urn = ?",
                [user.school_urn],
            )
        return Scope(user, schools, None, identified, None, read_only, school_pupils=on_roll)
    pupils = set(user.pupils)
    if user.groups and table_exists(con, "core", "bridge_group_member"):
        pupils |= _keys(
            con,
            "SELECT pupil_key FROM core.bridge_group_member "
            "WHERE school_urn = ? AND list_contains(?, group_code)",
            [user.school_urn, list(user.groups)],
        )
    areas = frozenset(user.areas) if role is Role.VISITING_PROFESSIONAL else None
    return Scope(user, schools, frozenset(pupils), identified, areas, read_only)


def has(scope: Scope, permission: Permission) -> bool:
    """May this user do ``permission`` at all (before asking about a pupil)?"""
    if scope.empty or permission not in ROLE_PERMISSIONS[scope.user.role]:
        return False
    if scope.read_only and permission in WRITE_PERMISSIONS - READ_ONLY_KEEPS:
        return False
    area = _AREA_OF.get(permission)
    return scope.areas is None or area is None or area in scope.areas


def can_see_area(scope: Scope, area: str) -> bool:
    if area not in AREA_PERMISSIONS:
        return False
    if scope.areas is not None and area not in scope.areas:
        return False
    return has(scope, AREA_PERMISSIONS[area])


def can_see_pupil(scope: Scope, pupil_key: str) -> bool:
    """May this user open this pupil's page? (Never for the trust analyst.)"""
    if not has(scope, P.VIEW_PUPIL):
        return False
    if scope.pupils is not None:
        return pupil_key in scope.pupils
    if scope.schools is None:
        return True
    return scope.school_pupils is not None and pupil_key in scope.school_pupils


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _column(name: str) -> str:
    # Column names are code, not user input, but check: they go into the SQL text.
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a column name: {name!r}")
    return name


def pupil_filter(
    scope: Scope,
    *,
    pupil_column: str = "pupil_key",
    school_column: str | None = "school_urn",
) -> tuple[str, list[object]]:
    """A SQL condition, with ``?`` parameters, that every query about pupils ANDs in.

    Values are never put into the SQL text: schools go in as ``IN (?, ...)`` and pupil sets
    as ONE list parameter to ``list_contains`` (DuckDB plans that as a hash lookup, so a
    few thousand keys cost no more than a few). With ``school_column=None`` (a table without
    one) a whole-school scope filters on the pupils on roll there instead.
    """
    if scope.empty:
        return "FALSE", []
    pupils = _column(pupil_column)
    clauses: list[str] = []
    params: list[object] = []
    if scope.schools is not None:
        if school_column is not None:
            ordered = sorted(scope.schools)
            clauses.append(f"{_column(school_column)} IN ({', '.join('?' for _ in ordered)})")
            params.extend(ordered)
        elif scope.pupils is None:
            on_roll = sorted(scope.school_pupils or ())
            if not on_roll:
                return "FALSE", []
            clauses.append(f"list_contains(?, {pupils})")
            params.append(on_roll)
    if scope.pupils is not None:
        if not scope.pupils:
            return "FALSE", []
        clauses.append(f"list_contains(?, {pupils})")
        params.append(sorted(scope.pupils))
    if not clauses:
        return "TRUE", []
    return "(" + " AND ".join(clauses) + ")", params


class Refused(Exception):
    """The user may not do this; ``reason`` is plain English and safe to show them."""

    def __init__(
        self, permission: Permission, reason: str, *, pupil_key: str | None = None
    ) -> None:
        super().__init__(reason)
        self.permission = permission
        self.pupil_key = pupil_key
        self.reason = reason


def require(
    scope: Scope,
    permission: Permission,
    *,
    pupil_key: str | None = None,
    area: str | None = None,
) -> None:
    """Raise Refused unless the user may do ``permission`` (for this pupil, in this area)."""
    if scope.empty:
        raise Refused(
            permission,
            "Your account is switched off or has expired.",
            pupil_key=pupil_key,
        )
    if not has(scope, permission):
        raise Refused(
            permission,
            f"Your role ({scope.user.role.label}) does not include this.",
            pupil_key=pupil_key,
        )
    if area is not None and not can_see_area(scope, area):
        raise Refused(
            permission, f"You do not have access to the {area} area.", pupil_key=pupil_key
        )
    if pupil_key is not None and not can_see_pupil(scope, pupil_key):
        raise Refused(
            permission, "This pupil is not one of the pupils you work with.", pupil_key=pupil_key
        )


def import_schools(scope: Scope) -> frozenset[str] | None:
    """The schools whose rows this user's imports may write (None: every school; empty:
    none). The import service checks every landed row against it, whatever the format."""
    if not has(scope, P.IMPORT):
        return frozenset()
    return scope.schools


def may_import_catalogues(scope: Scope) -> bool:
    """May this user's imports change the trust-wide catalogues (strategies,
    interventions)? They are every school's, so only the trust's own administrator."""
    return has(scope, P.IMPORT_CATALOGUES) and scope.schools is None


def may_choose_pupil(scope: Scope, school_urn: str) -> bool:
    """May this user settle a pupil match for ``school_urn`` on the import page: see its
    pupils' names to tell them apart, and land the choice? Only whoever may import for
    that school (never another school's pupils), and only with identity."""
    if not may_see_section(scope, Section.IMPORTS_PUPIL_MATCH):
        return False
    if not (scope.identified and has(scope, P.VIEW_IDENTITY)):
        return False
    schools = import_schools(scope)
    return schools is None or school_urn in schools


# -- Actions (issue 13, item 3) ---------------------------------------------------------


def may_agree_action(scope: Scope, school_urn: str, pupil_key: str) -> bool:
    """May this user agree an action for this pupil at this school (and choose its owner)?
    The SENCo and the DSL, for a pupil they may see at their own school."""
    return (
        has(scope, P.AGREE_ACTIONS)
        and scope.schools is not None
        and school_urn in scope.schools
        and can_see_pupil(scope, pupil_key)
    )


def may_own_action(owner: Scope, pupil_key: str) -> bool:
    """May an action about this pupil be given to this account (``owner`` is the account's
    own scope)? School staff who may be given actions and may see the pupil: an owner
    must be able to open the page of the child the action is about."""
    return has(owner, P.OWN_ACTIONS) and can_see_pupil(owner, pupil_key)


def may_update_action(scope: Scope, owner_ref: str | None, school_urn: str) -> bool:
    """May this user mark an action done or cancelled, or reopen it? Its owner always
    (``owner_ref`` is the action's owner, ``capture.staff_ref`` of an account), and whoever
    agrees actions at its school (a SENCo closing an imported action, or one whose owner
    has left)."""
    if scope.empty or scope.read_only:
        return False
    if owner_ref is not None and owner_ref == f"app-user-{scope.user.user_id}":
        return has(scope, P.OWN_ACTIONS) and (scope.schools is None or school_urn in scope.schools)
    return has(scope, P.AGREE_ACTIONS) and scope.schools is not None and school_urn in scope.schools


def sees_school_actions(scope: Scope, school_urn: str) -> bool:
    """May this user see every action of this school (not only the ones they own)?"""
    return has(scope, P.VIEW_SCHOOL_ACTIONS) and (
        scope.schools is None or school_urn in scope.schools
    )


# -- Provision management (issue 13, item 4) ---------------------------------------------


def may_manage_catalogue(scope: Scope, school_urn: str | None) -> bool:
    """May this user add or change an intervention catalogue entry of ``school_urn`` (None:
    a trust-wide entry)? Trust-wide entries are every school's, so only the trust's own
    administrator (as ``may_import_catalogues``); a school's own, its SENCo."""
    if not has(scope, P.MANAGE_PROVISION):
        return False
    if school_urn is None:
        return scope.schools is None
    return scope.schools is not None and school_urn in scope.schools


def may_manage_groups(scope: Scope, school_urn: str) -> bool:
    """May this user set up groups at ``school_urn`` and enrol, move and end its pupils'
    enrolments? The school's SENCo (a trust-wide scope does not run a school's groups)."""
    return (
        has(scope, P.MANAGE_PROVISION)
        and scope.schools is not None
        and school_urn in scope.schools
        and has(scope, P.VIEW_IDENTITY)
    )


def may_record_sessions(scope: Scope, school_urn: str, runners: Collection[int]) -> bool:
    """May this user record the session register of a group at ``school_urn`` run by the
    accounts ``runners``? Staff who run it; the school's SENCo for any of its groups."""
    if not has(scope, P.RECORD_SESSIONS):
        return False
    if scope.schools is None or school_urn not in scope.schools:
        return False
    return scope.user.user_id in runners or may_manage_groups(scope, school_urn)


def may_view_group(scope: Scope, school_urn: str, runners: Collection[int]) -> bool:
    """May this user open a group's page: whoever manages or records it, and the trust
    admin (who reads every school's provision)."""
    if may_manage_groups(scope, school_urn) or may_record_sessions(scope, school_urn, runners):
        return True
    return has(scope, P.MANAGE_PROVISION) and scope.schools is None


def contribution_areas(scope: Scope) -> tuple[str, ...]:
    """The areas this user may file a contribution under, in ``AREAS`` order (a visiting
    professional: the areas chosen for them; the SENCo: every area they may see)."""
    if not has(scope, P.CONTRIBUTE):
        return ()
    return tuple(a for a in AREAS if can_see_area(scope, a))


def may_contribute(scope: Scope, pupil_key: str, area: str | None = None) -> bool:
    """May this user add a contribution about this pupil (in ``area``, when given)? Only
    their own pupils (a visitor's named pupils), before their account expires (an expired
    scope is empty), in an area open to them."""
    if not has(scope, P.CONTRIBUTE) or not can_see_pupil(scope, pupil_key):
        return False
    return area is None or area in contribution_areas(scope)


def may_see_contribution(scope: Scope, pupil_key: str, area: str) -> bool:
    """May this user read a contribution (its note, its report) about this pupil filed
    under ``area``? Whoever may open the pupil and see that area; the file too."""
    return (
        may_see_section(scope, Section.PUPIL_CONTRIBUTIONS)
        and can_see_pupil(scope, pupil_key)
        and can_see_area(scope, area)
    )


# -- Safeguarding concerns (issue 13, item 5) ---------------------------------------------


def _school_staff(scope: Scope, school_urn: str) -> bool:
    return (
        not scope.empty
        and not scope.read_only
        and scope.schools is not None
        and school_urn in scope.schools
    )


def may_read_concern(scope: Scope, school_urn: str, shared_with: frozenset[int]) -> bool:
    """May this user read one safeguarding concern of ``school_urn`` (its words, who was
    there), shared by the DSL with the accounts ``shared_with``? The school's DSL, and a
    staff account of that school it was shared with; never its recorder as such."""
    if not _school_staff(scope, school_urn):
        return False
    if has(scope, P.VIEW_CONCERNS):
        return True
    return scope.user.user_id in shared_with


def may_act_on_concern(scope: Scope, school_urn: str) -> bool:
    """May this user acknowledge or share a concern of ``school_urn``, and record a
    leaver's child protection file? The school's DSL only."""
    return _school_staff(scope, school_urn) and has(scope, P.VIEW_CONCERNS)


def may_receive_share(user: User, school_urn: str, *, today: date) -> bool:
    """May a concern of ``school_urn`` be shared with ``user``: an enabled staff account
    of that school (not a visitor, not a trust-wide role)."""
    return (
        not user.disabled
        and not user.is_expired(today)
        and user.school_urn == school_urn
        and user.role in (Role.SENCO, Role.DSL, Role.TEACHER, Role.TEACHING_ASSISTANT)
    )


# -- Sections of pages (issue 10, finding 4) and suppression (finding 5) ---------------


def may_see_section(scope: Scope, section: Section) -> bool:
    """THE decision whether one section of a page may be shown to this user.

    A section about one area (``sections.SECTION_RULES``) needs that area (a visiting
    professional's chosen areas; for staff, the permission the area needs); a section
    offered to aggregate-only roles is shown to VIEW_AGGREGATES as suppressed counts.
    """
    if scope.empty:
        return False
    rule = SECTION_RULES[section]
    if rule.aggregates and has(scope, P.VIEW_AGGREGATES):
        return True
    if rule.permission is not None and not has(scope, Permission(rule.permission)):
        return False
    if rule.limited_area is not None and scope.areas is not None:
        if rule.limited_area not in scope.areas:
            return False
    if rule.also_area is not None and not can_see_area(scope, rule.also_area):
        return False
    return rule.area is None or can_see_area(scope, rule.area)


def may_compare_schools(scope: Scope) -> bool:
    """Whether the home page shows the schools side by side: a trust-wide role (every
    school in scope) with the section; a one-school role's home stays its children."""
    return scope.schools is None and may_see_section(scope, Section.HOME_SCHOOLS_SIDE_BY_SIDE)


def may_open_school(scope: Scope, school_urn: str) -> bool:
    """Whether ``/schools/{school_urn}`` (a school's row and what needs attention there)
    may be shown: the section, and the school in scope."""
    in_scope = scope.schools is None or school_urn in scope.schools
    return in_scope and may_see_section(scope, Section.HOME_SCHOOLS_SIDE_BY_SIDE)


def visible_sections(scope: Scope) -> frozenset[Section]:
    """Every section this user may see, for the view services to filter by."""
    return frozenset(s for s in Section if may_see_section(scope, s))


def visible_areas(scope: Scope) -> frozenset[str]:
    """The areas whose pupil-level entries (timeline kinds, early-sign measures) may show."""
    return frozenset(a for a in AREAS if can_see_area(scope, a))


def may_make_document(
    scope: Scope, kind: DocumentKind, *, school_urn: str | None, pupil_key: str | None = None
) -> bool:
    """THE decision whether this user may make (and so export) a document
    (``access.documents``): every permission its rule needs, the school in scope, the pupil
    one they may open; the trust pack only for a scope of every school."""
    rule = DOCUMENT_RULES[kind]
    if scope.empty or not all(has(scope, Permission(p)) for p in rule.permissions):
        return False
    if rule.trust_wide:
        return scope.schools is None
    if school_urn is None or not (scope.schools is None or school_urn in scope.schools):
        return False
    return pupil_key is None or can_see_pupil(scope, pupil_key)


def document_sections(scope: Scope | None, kind: DocumentKind) -> frozenset[Section]:
    """The sections a document may hold: its rule's, narrowed to the user's own (``None``:
    the command line's operator, who holds the warehouse and its keys)."""
    allowed = DOCUMENT_RULES[kind].sections
    return allowed if scope is None else allowed & visible_sections(scope)


def document_areas(scope: Scope | None, kind: DocumentKind) -> frozenset[str]:
    allowed = DOCUMENT_RULES[kind].areas
    return allowed if scope is None else allowed & visible_areas(scope)


def must_suppress(scope: Scope, *, leaves_school: bool = False) -> bool:
    """Whether counts over several pupils are suppressed for this user (ANALYTICS.md 5).

    Staff who may open each pupil's page see exact counts (hiding "HI: c" beside a list
    naming that pupil only confuses); aggregate-only roles (the trust analyst) always get
    suppressed figures, and so does any document that leaves the school.
    """
    return leaves_school or not has(scope, P.VIEW_PUPIL)


__all__ = [
    "AREAS",
    "AREA_PERMISSIONS",
    "ROLE_PERMISSIONS",
    "SCOPE_TABLES",
    "READ_ONLY_KEEPS",
    "WRITE_PERMISSIONS",
    "Permission",
    "Refused",
    "Scope",
    "can_see_area",
    "can_see_pupil",
    "contribution_areas",
    "may_contribute",
    "may_make_document",
    "document_sections",
    "document_areas",
    "may_see_contribution",
    "empty_scope",
    "has",
    "import_schools",
    "may_agree_action",
    "may_own_action",
    "may_update_action",
    "sees_school_actions",
    "may_act_on_concern",
    "may_choose_pupil",
    "may_read_concern",
    "may_receive_share",
    "may_import_catalogues",
    "may_manage_catalogue",
    "may_manage_groups",
    "may_record_sessions",
    "may_view_group",
    "pupil_filter",
    "require",
    "scope_for",
    "may_see_section",
    "may_compare_schools",
    "may_open_school",
    "must_suppress",
    "visible_areas",
    "visible_sections",
]
