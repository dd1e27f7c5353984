"""Every section of every page, and the area or permission each one belongs to.

This is data, read by :func:`empowered.access.policy.may_see_section` (the one function
that decides whether a section may be shown) and by the view services, which leave a
section out (not fetched, or dropped before rendering) when the policy says no. A new
section must be listed here before a page can show it: the route x role x area test walks
this table.

Pupil-level details belong to the mart areas of ``roles.AREAS``; a section about one area
is shown only to a user who may see that area (a visiting professional only the areas
chosen for them; staff roles the areas their permissions open). Some sections are also
offered to aggregate-only roles (the trust analyst) as suppressed counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Section(StrEnum):
    # Home page ("what needs attention")
    HOME_TRIGGERS = "home.triggers"  # safeguarding trigger cards and their review status
    HOME_EARLY_SIGNS = "home.early_signs"  # one item per alert: filtered by measure area too
    HOME_PLAN_REVIEWS = "home.plan_reviews"
    HOME_NEEDS_WITHOUT_PROVISION = "home.needs_without_provision"
    HOME_SCHOOL_SUMMARY = "home.school_summary"  # an analyst's suppressed counts per school
    HOME_MY_ACTIONS = "home.my_actions"  # "Your actions": the open actions the user owns
    HOME_CONCERNS = "home.concerns"  # safeguarding concerns not yet acknowledged (the DSL)
    HOME_CP_FILES = "home.cp_files"  # leavers whose child protection file is not yet received
    HOME_SHARED_CONCERNS = "home.shared_concerns"  # concerns the DSL shared with this account
    # Pupil page
    PUPIL_IDENTITY = "pupil.identity"
    PUPIL_STATUS = "pupil.status"  # SEN status, need, FSM, pupil premium, EAL, looked after
    PUPIL_NOTE = "pupil.note"
    PUPIL_EARLY_SIGNS = "pupil.early_signs"  # each measure filtered by its own area too
    PUPIL_WHAT_HELPS = "pupil.what_helps"
    PUPIL_HARDER = "pupil.harder"
    PUPIL_WELLBEING = "pupil.wellbeing"
    PUPIL_ATTENDANCE = "pupil.attendance"
    PUPIL_BEHAVIOUR = "pupil.behaviour"
    PUPIL_PROVISION = "pupil.provision"
    PUPIL_PLANS = "pupil.plans"
    PUPIL_ASSESSMENTS = "pupil.assessments"
    PUPIL_TIMELINE = "pupil.timeline"  # each entry filtered by its kind's area too
    # Notes and reports from visiting professionals: each entry filtered by its own area
    PUPIL_CONTRIBUTIONS = "pupil.contributions"
    # The form that adds one (``policy.may_contribute``: named pupils, chosen areas)
    PUPIL_CONTRIBUTION_FORM = "pupil.contribution_form"
    PUPIL_RECORD_CONCERN = "pupil.record_concern"  # the way to the concern form
    PUPIL_CHRONOLOGY = "pupil.chronology"  # the way to the DSL's chronology of the child
    PUPIL_TRIGGERS = "pupil.triggers"  # the child's triggers, decisions and agreed actions
    # Looking back (issue 15, item 6): lasting changes in mood and engagement, and mood
    # before and after each strategy began (the page also needs the wellbeing area for it)
    PUPIL_CHANGES = "pupil.changes"
    PUPIL_BEFORE_AFTER = "pupil.before_after"
    # The DSL's chronology of one child, and their list of the school's concerns
    CHRONOLOGY = "chronology.entries"
    CONCERNS_LIST = "concerns.list"
    # Strategies and patterns page
    STRATEGY_EFFECTS = "strategies.effects"
    STRATEGY_PATTERNS = "strategies.patterns"  # when incidents happen: behaviour
    # SEND register page (and its spreadsheet)
    REGISTER_COUNTS = "register.counts"
    REGISTER_LIST = "register.list"
    REGISTER_QUESTIONS = "register.questions"
    REGISTER_ATTENDANCE = "register.attendance"  # column, filter and question
    REGISTER_PROVISION = "register.provision"  # column, filter, table and question
    # Provision map
    PROVISION_MAP = "provision.map"
    # Provision management
    PROVISION_CATALOGUE = "provision.catalogue"  # intervention catalogue and its cost model
    PROVISION_GROUPS = "provision.groups"  # the groups a member of staff runs or manages
    PROVISION_MEMBERS = "provision.members"  # a group's pupils, by name, and their measures
    PROVISION_SESSIONS = "provision.sessions"  # a group's registers: delivered, attended
    # Triggers page
    TRIGGERS_QUEUE = "triggers.queue"
    TRIGGERS_EARLY_SIGNS = "triggers.early_signs"  # each measure filtered by its area too
    # Actions page (issue 13, item 3)
    ACTIONS_MINE = "actions.mine"  # the open actions the signed-in account owns
    ACTIONS_SCHOOL = "actions.school"  # every action of the school, filterable
    # A pupil's plan page (/pupils/{key}/plan): the plan, its outcomes and history; and,
    # for each outcome's strategies, what the strategy-effects analytics say about them
    PLAN_DETAILS = "plan.details"
    PLAN_WHAT_HELPS = "plan.what_helps"
    # Import report: choosing the pupil a quarantined row meant (names the candidates)
    IMPORTS_PUPIL_MATCH = "imports.pupil_match"
    # Plan reviews (issue 13): the reviews held, the form, an EHC plan's annual review steps
    HOME_EHC_REVIEW_STEPS = "home.ehc_review_steps"
    REVIEWS_HELD = "reviews.held"
    REVIEWS_FORM = "reviews.form"
    REVIEWS_EHC_CALENDAR = "reviews.ehc_calendar"
    # Backups (issue 14): the home page's warning (none, old, or the last one failed) and
    # the admin page's list of them
    HOME_BACKUPS = "home.backups"
    ADMIN_BACKUPS = "admin.backups"
    # Finding a child (issue 15, item 3): the SEN status beside each pupil found or listed
    PUPILS_SEN_STATUS = "pupils.sen_status"
    # The trust-wide roles' home (issue 15, item 1): the schools side by side, each
    # leading to its own page (/schools/{urn}) of what needs attention there
    HOME_SCHOOLS_SIDE_BY_SIDE = "home.schools_side_by_side"
    # Home around children (issue 15, item 1): a child's SEN status and need on their home
    # card, and a teacher's or assistant's own pupils with SEN (their plan is what helps)
    HOME_PUPIL_STATUS = "home.pupil_status"


@dataclass(frozen=True)
class SectionRule:
    """``area``: the mart area the section shows (None: not one area's data);
    ``permission``: a permission needed besides the area's own (a Permission value);
    ``aggregates``: also shown, as suppressed counts, to a role with VIEW_AGGREGATES;
    ``limited_area``: see below."""

    area: str | None = None
    permission: str | None = None
    aggregates: bool = False
    # Only for users limited to chosen areas (a visiting professional): the area they need.
    # Staff keep the section under their role's permission alone.
    limited_area: str | None = None
    # A second area the section's figures come from (both are needed to see it).
    also_area: str | None = None


S = Section
SECTION_RULES: dict[Section, SectionRule] = {
    S.HOME_TRIGGERS: SectionRule(permission="view_triggers"),
    S.HOME_EARLY_SIGNS: SectionRule(permission="view_pupil"),
    S.HOME_PLAN_REVIEWS: SectionRule(area="register"),
    S.HOME_NEEDS_WITHOUT_PROVISION: SectionRule(area="register", aggregates=True),
    S.HOME_SCHOOL_SUMMARY: SectionRule(permission="view_aggregates"),
    S.PUPIL_IDENTITY: SectionRule(permission="view_identity"),
    # Teachers and assistants need to know a child's SEN status and need to teach them (the
    # SEND Code of Practice: every teacher is a teacher of SEN); a visitor only with the
    # register area.
    S.PUPIL_STATUS: SectionRule(permission="view_pupil", limited_area="register"),
    # The SENCo's one-sentence note is for everyone who opens the page (policy notes).
    S.PUPIL_NOTE: SectionRule(permission="view_pupil"),
    S.PUPIL_EARLY_SIGNS: SectionRule(permission="view_pupil"),
    S.PUPIL_WHAT_HELPS: SectionRule(area="strategies"),
    S.PUPIL_HARDER: SectionRule(area="behaviour"),
    S.PUPIL_WELLBEING: SectionRule(area="wellbeing"),
    S.PUPIL_CHANGES: SectionRule(area="wellbeing"),
    # Strategies' figures (a DSL, who does not see strategies, does not get them); mood is
    # wellbeing data, so that area is needed too.
    S.PUPIL_BEFORE_AFTER: SectionRule(area="strategies", also_area="wellbeing"),
    S.PUPIL_ATTENDANCE: SectionRule(area="attendance"),
    S.PUPIL_BEHAVIOUR: SectionRule(area="behaviour"),
    S.PUPIL_PROVISION: SectionRule(area="provision"),
    # A pupil's plan is for every member of staff who works with them: "all teachers and
    # support staff who work with the pupil should be made aware of their needs, the
    # outcomes sought, the support provided and any teaching strategies or approaches that
    # are required" (SEN Code of Practice 6.48). A visitor only with the register area.
    # (Reviews, with the parents' words, stay in the register area: REVIEWS_*.)
    S.PUPIL_PLANS: SectionRule(permission="view_pupil", limited_area="register"),
    S.PLAN_DETAILS: SectionRule(permission="view_pupil", limited_area="register"),
    S.PLAN_WHAT_HELPS: SectionRule(area="strategies"),
    S.PUPIL_ASSESSMENTS: SectionRule(area="learning"),
    S.PUPIL_TIMELINE: SectionRule(permission="view_pupil"),
    # Everyone who opens the page, each contribution only in an area they may see.
    S.PUPIL_CONTRIBUTIONS: SectionRule(permission="view_pupil"),
    S.PUPIL_CONTRIBUTION_FORM: SectionRule(permission="contribute"),
    S.STRATEGY_EFFECTS: SectionRule(area="strategies", aggregates=True),
    S.STRATEGY_PATTERNS: SectionRule(area="behaviour", aggregates=True),
    S.REGISTER_COUNTS: SectionRule(area="register", aggregates=True),
    S.REGISTER_LIST: SectionRule(area="register", permission="view_identity"),
    S.REGISTER_QUESTIONS: SectionRule(area="register", aggregates=True),
    S.REGISTER_ATTENDANCE: SectionRule(area="attendance", aggregates=True),
    S.REGISTER_PROVISION: SectionRule(area="provision", aggregates=True),
    S.PROVISION_MAP: SectionRule(area="provision", aggregates=True),
    # Provision management: the pages themselves are open only to whoever keeps or records
    # provision (policy.may_manage_catalogue, may_view_group); names need identity.
    S.PROVISION_CATALOGUE: SectionRule(permission="manage_provision"),
    S.PROVISION_GROUPS: SectionRule(),
    S.PROVISION_MEMBERS: SectionRule(permission="view_identity"),
    S.PROVISION_SESSIONS: SectionRule(),
    S.TRIGGERS_QUEUE: SectionRule(permission="view_triggers"),
    S.TRIGGERS_EARLY_SIGNS: SectionRule(permission="view_triggers"),
    # Whoever imports for the school settles its rows' pupil matches; the pupils offered
    # are named, so identity is needed too (policy.may_choose_pupil).
    S.IMPORTS_PUPIL_MATCH: SectionRule(permission="import"),
    # An owner's own actions; the school's for those who agree them (policy notes).
    S.HOME_MY_ACTIONS: SectionRule(permission="own_actions"),
    S.ACTIONS_MINE: SectionRule(permission="own_actions"),
    S.ACTIONS_SCHOOL: SectionRule(permission="view_school_actions"),
    # The SENCo holds reviews and keeps an EHC plan's annual review calendar: the steps
    # coming due are theirs to do, so their home page lists them.
    S.HOME_EHC_REVIEW_STEPS: SectionRule(area="register", permission="hold_reviews"),
    S.REVIEWS_HELD: SectionRule(area="register"),
    S.REVIEWS_FORM: SectionRule(area="register", permission="hold_reviews"),
    S.REVIEWS_EHC_CALENDAR: SectionRule(area="register"),
    # Concerns are not the safeguarding area's mart data: they need VIEW_CONCERNS (the
    # DSL), which no visitor has whatever their areas (policy notes).
    S.HOME_CONCERNS: SectionRule(permission="view_concerns"),
    S.HOME_CP_FILES: SectionRule(permission="view_concerns"),
    S.HOME_SHARED_CONCERNS: SectionRule(permission="record_concern"),
    S.PUPIL_RECORD_CONCERN: SectionRule(permission="record_concern"),
    S.PUPIL_CHRONOLOGY: SectionRule(permission="view_concerns"),
    # The child's triggers with the DSL's decisions and the actions agreed on them: for
    # those who see the review queue (VIEW_TRIGGERS), never teachers, assistants or visitors.
    S.PUPIL_TRIGGERS: SectionRule(permission="view_triggers"),
    S.CHRONOLOGY: SectionRule(permission="view_concerns"),
    S.CONCERNS_LIST: SectionRule(permission="view_concerns"),
    S.HOME_BACKUPS: SectionRule(permission="manage_backups"),
    S.ADMIN_BACKUPS: SectionRule(permission="manage_backups"),
    # As on the pupil page (PUPIL_STATUS): staff who open the pupil; a visitor only with
    # the register area.
    S.PUPILS_SEN_STATUS: SectionRule(permission="view_pupil", limited_area="register"),
    # School-level counts only (suppressed for the analyst); each column keeps its own
    # section's rule (REGISTER_COUNTS, REGISTER_ATTENDANCE, HOME_TRIGGERS...). Only for a
    # scope of every school: ``policy.may_compare_schools``.
    S.HOME_SCHOOLS_SIDE_BY_SIDE: SectionRule(permission="view_aggregates"),
    # The same decision on a home card (PUPIL_STATUS, PUPILS_SEN_STATUS).
    S.HOME_PUPIL_STATUS: SectionRule(permission="view_pupil", limited_area="register"),
}

# The area each early-sign measure (``analytics.early_signs.INDICATORS``) reads.
MEASURE_AREA: dict[str, str] = {
    "attendance": "attendance",
    "mood": "wellbeing",
    "engagement": "wellbeing",
    "behaviour": "behaviour",
    "attainment": "learning",
}

# The area each kind of timeline entry (``views.timeline.KINDS``) comes from; an early-sign
# alert ("alert") belongs to its measure's area instead (MEASURE_AREA).
TIMELINE_AREA: dict[str, str] = {
    "alert": "wellbeing",
    "exclusion": "behaviour",
    "incident": "behaviour",
    "strategy": "strategies",
    "check_in": "wellbeing",
    "plan": "register",
    "review": "register",
    "action": "register",
    "provision": "provision",
    "assessment": "learning",
    "sen_status": "register",
    "attendance": "attendance",
}
