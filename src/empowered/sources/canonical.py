"""The canonical CSV format (docs/canonical-format.md): its entities and their columns.

This registry is the single definition of the format: the raw tables are created from it,
the loader checks headers against it, and the synthetic trust writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

# When a source has no UPN (a forms export, a tracker), a pupil-linked row may name the
# pupil by MIS id, or by name with a date of birth or registration group. Staging matches
# in that order and quarantines no match or more than one; it never guesses.
MATCH_COLUMNS = ("mis_id", "pupil_name", "pupil_dob", "pupil_group")

# Direct identifiers: raw holds them only as ciphertext (empowered.sources.protect). The
# MIS id is one too: every member of staff can look a pupil up by it in the school's MIS,
# and it travels in every export beside the pupil's other data.
IDENTITY_COLUMNS = (
    "upn",
    "mis_id",
    # A data aggregator's own id for the pupil (Assembly's student id), which its other
    # records (attendance summaries) name the pupil by: matched as a MIS id would be.
    "aggregator_id",
    "forename",
    "surname",
    "date_of_birth",
    "pupil_name",
    "pupil_dob",
)
# What landing adds beside the ciphertext so that staging can match and check identity
# it cannot read: keyed blind indexes of the normalised values, and the non-identifying
# verdicts the rules need (whether a date of birth is missing, unparseable, implausible).
PUPIL_INDEX_COLUMNS = (
    "name_bidx",
    "name_reversed_bidx",
    "name_dob_bidx",
    "name_dob_reversed_bidx",
    "dob_check",
)
MATCH_INDEX_COLUMNS = ("pupil_name_bidx", "pupil_name_dob_bidx", "pupil_dob_state")
# A safeguarding concern's own words (what was seen or said, who was there) and the school a
# child protection file went to (a child who moved away from harm may be found by it): the
# most sensitive things the app holds, so stored as identity is, as ciphertext only, and
# decrypted only for a reader the policy allows (``empowered.identity.concern_reader``).
SENSITIVE_TEXT_COLUMNS = ("concern_text", "people_present", "new_school")


@dataclass(frozen=True)
class Entity:
    name: str
    columns: tuple[str, ...]
    # Columns without which a row means nothing; a file missing one is refused whole.
    required: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def raw_table(self) -> str:
        return f"raw.canonical_{self.name}"

    @property
    def pupil_linked(self) -> bool:
        return "upn" in self.columns and self.name != "pupils"

    # The column lists are worked out once per entity: landing a capture asks for them
    # several times on every save.
    @cached_property
    def raw_columns(self) -> tuple[str, ...]:
        """What a raw row can hold: the format's columns plus, for pupil-linked entities,
        the optional pupil-matching columns."""
        extra = (
            tuple(c for c in MATCH_COLUMNS if c not in self.columns) if self.pupil_linked else ()
        )
        return self.columns + extra

    @cached_property
    def index_columns(self) -> tuple[str, ...]:
        """The columns landing derives from identity (never read from a file)."""
        raw = self.raw_columns
        derived: tuple[str, ...] = tuple(
            f"{c}_bidx" for c in ("upn", "mis_id", "aggregator_id") if c in raw
        )
        if self.name == "pupils":
            derived += PUPIL_INDEX_COLUMNS
        if "pupil_name" in raw:
            derived += MATCH_INDEX_COLUMNS
        return derived

    @cached_property
    def identity_columns(self) -> tuple[str, ...]:
        return tuple(
            c for c in self.raw_columns if c in IDENTITY_COLUMNS or c in SENSITIVE_TEXT_COLUMNS
        )

    @cached_property
    def stored_columns(self) -> tuple[str, ...]:
        """A raw table's data columns: the file's (identity as ciphertext) and the indexes."""
        return self.raw_columns + self.index_columns


def _entity(name: str, columns: str, required: str) -> Entity:
    return Entity(name, tuple(columns.split()), tuple(required.split()))


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        _entity(
            "schools",
            "school_urn la_code estab school_name phase trust_name establishment_type",
            "school_urn",
        ),
        _entity(
            "pupils",
            "school_urn mis_id upn forename surname date_of_birth sex ethnicity first_language"
            " entry_date leaving_date aggregator_id",
            "school_urn upn",
        ),
        _entity(
            "characteristics",
            "school_urn upn effective_date year_group reg_group fsm pupil_premium looked_after"
            " service_child eal fsm6",
            "school_urn effective_date",
        ),
        _entity(
            "sen_status",
            "school_urn upn start_date sen_provision primary_need secondary_need",
            "school_urn start_date sen_provision",
        ),
        # A pupil's types of need one row each, with their rank (1 the primary need) and
        # their own dates, as SEN registers, Arbor's SenNeed and the CTF hold them.
        _entity(
            "sen_needs",
            "school_urn upn need_type need_rank start_date end_date",
            "school_urn need_type",
        ),
        _entity(
            "terms",
            "school_urn academic_year term half_term start_date end_date",
            "school_urn start_date end_date",
        ),
        _entity("closures", "school_urn date reason", "school_urn date"),
        _entity(
            "periods",
            "school_urn period_code period_name start_time end_time",
            "school_urn period_code start_time end_time",
        ),
        _entity("staff", "school_urn staff_id role", "school_urn staff_id"),
        _entity(
            "staff_training",
            "school_urn staff_id area_of_need course completed_on",
            "school_urn staff_id",
        ),
        _entity("strategies", "strategy_code strategy_name category", "strategy_code"),
        _entity(
            "interventions",
            "intervention_code intervention_name area_of_need target_need measure group_size"
            " minutes_per_session hourly_staff_cost materials_cost training_cost"
            # Kept in the app's catalogue (provision management), optional in a file: the
            # school it belongs to (blank: trust-wide), who delivers it and how often.
            " school_urn staff_role sessions_per_week weeks",
            "intervention_code",
        ),
        _entity(
            "observations",
            "observation_id school_urn upn observed_on observed_time staff_id activity setting"
            " mood engagement regulation note",
            "observation_id school_urn observed_on",
        ),
        _entity(
            "incidents",
            "incident_id school_urn upn occurred_on occurred_time staff_id activity setting"
            " antecedent behaviour consequence intensity duration_minutes",
            "incident_id school_urn occurred_on",
        ),
        _entity(
            "strategy_uses",
            "use_id school_urn upn used_on used_time staff_id strategy_code activity setting"
            " outcome note",
            "use_id school_urn used_on strategy_code",
        ),
        _entity("attendance", "school_urn upn date session code", "school_urn date session"),
        # A pupil's attendance over a period as a report adds it up, for schools (or
        # years) with no session marks: sessions possible, present, at approved
        # educational activity, absent with and without authority, and late. A transfer
        # file's earlier years name the school that recorded them (from_school_*): they
        # are that school's history, not this school's attendance.
        _entity(
            "attendance_summary",
            "school_urn upn period_start period_end possible present approved_activity"
            " authorised unauthorised late from_school_urn from_school_laestab",
            "school_urn period_end possible",
        ),
        _entity(
            "assessments",
            "school_urn upn assessed_on subject assessment measure value",
            "school_urn assessed_on",
        ),
        _entity(
            "exclusions",
            "exclusion_id school_urn upn start_date category sessions reason_1 reason_2 reason_3",
            "exclusion_id school_urn start_date",
        ),
        _entity(
            "provision_enrolments",
            "enrolment_id school_urn upn intervention_code staff_id start_date end_date"
            " sessions_planned pre_date pre_score post_date post_score"
            # Optional: the app's group the pupil joined, why they started and why it ended.
            " group_id reason end_reason",
            "enrolment_id school_urn intervention_code",
        ),
        _entity(
            "provision_sessions",
            "enrolment_id session_date delivered minutes"
            # Optional: a group's session register (provision management) says whether the
            # pupil attended, why a session was missed, and who recorded it.
            " group_id attended missed_reason recorded_by",
            "enrolment_id session_date",
        ),
        _entity(
            "plans",
            "plan_id school_urn upn plan_type start_date end_date next_review_due"
            # Optional: what a plan written in the app holds (issue 13), each save a new
            # version of the same plan_id; a school's own export may carry them too.
            " strengths needs_communication needs_cognition needs_semh needs_sensory"
            " important_to_me how_to_support plan_version status agreed_on agreed_by"
            " agreed_with saved_by saved_at",
            "plan_id school_urn",
        ),
        _entity(
            "plan_outcomes",
            "outcome_id plan_id area_of_need outcome_text target_date"
            # Optional: how each outcome is met (strategy_codes: catalogue codes separated
            # by ";"), and the plan version it belongs to (an outcome left out of a later
            # version is no longer current).
            " provision strategy_codes who how_often plan_version",
            "outcome_id plan_id",
        ),
        _entity(
            "plan_reviews",
            # A review held in the app also names its meeting (``review_meetings``) and
            # rates progress on the -2..+2 scale; an imported row gives progress in words.
            "review_id plan_id outcome_id review_date progress note meeting_id rating",
            "review_id plan_id",
        ),
        _entity(
            "actions",
            "action_id school_urn upn raised_on source description owner_role due_date"
            " completed_on"
            # Optional, written by the app's actions form (empowered.actions): what kind of
            # step, its owner's account (``capture.staff_ref``), its status and who set it
            # when, who raised it, and the record it came from (a trigger's id). A status
            # change lands a new row for the same action_id: the latest is current.
            " kind owner status status_by status_at raised_by ref",
            "action_id school_urn",
        ),
        _entity("groups", "school_urn group_code staff_id upn", "school_urn group_code"),
    )
}


# Entered in the app, never read from a school's file: each lands in raw as a source of
# its own and flows through staging like an import, but no file named after it is taken
# for the canonical format (the importer knows only ``ENTITIES``).
APP_ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        # A member of staff's answer to "which pupil does this row mean?" for a way of
        # naming a pupil (``ref_key``: the school and the identifiers' blind indexes, never
        # the name, UPN or date of birth) that matched no pupil or several: ``decision``
        # "pupil" with the chosen ``pupil_key``, or "not_ours". The latest choice wins.
        _entity(
            "pupil_match_choices",
            "school_urn ref_key decision pupil_key chosen_by chosen_at",
            "school_urn ref_key decision",
        ),
        # An intervention group kept in the app (provision management): the intervention it
        # runs, its staff (``capture.staff_ref`` of each account, space-separated) and its
        # timetable slot; its members are the enrolments naming its ``group_id``.
        _entity(
            "provision_groups",
            "group_id school_urn intervention_code group_name staff_ids day_of_week"
            " start_time end_time start_date end_date",
            "group_id school_urn intervention_code",
        ),
        # A visiting professional's note (and perhaps report) about a pupil, in one area
        # (empowered.contributions). ``title``, ``note`` and ``file_name`` are AES-GCM
        # ciphertext (they describe the child's needs and may name them); ``file_sha256``
        # names the stored report. ``author`` is the account (``capture.staff_ref``), with
        # the role and organisation it held when it wrote: the note's provenance.
        _entity(
            "contributions",
            "contribution_id school_urn upn area title note visited_on author author_role"
            " organisation file_name file_sha256 saved_at",
            "contribution_id school_urn area",
        ),
        # A plan review meeting held in the app (SEN Code of Practice 6.72-6.77; for an
        # EHC plan the annual review, 9.166-9.176): the pupil's and parents' views, the
        # discussion with the parents, who attended, what changes, the next steps and the
        # next review date. Each outcome's progress at the meeting is a ``plan_reviews``
        # row naming ``meeting_id``. ``held_by`` is the account (``capture.staff_ref``).
        _entity(
            "review_meetings",
            "meeting_id school_urn plan_id held_on held_by attended parents_met pupil_views"
            " parent_views parent_discussion changes next_steps next_review_due recorded_at",
            "meeting_id school_urn plan_id held_on",
        ),
        # A step of an EHC plan's annual review recorded as done (SEND Regulations 2014,
        # reg 20): advice requested and papers circulated before the meeting, the review
        # report sent after it. ``recorded_by`` is the account (``capture.staff_ref``).
        _entity(
            "ehc_review_steps",
            "step_id school_urn plan_id step done_on recorded_by recorded_at",
            "step_id school_urn plan_id step done_on",
        ),
        # A safeguarding concern recorded by a member of staff (``empowered.concerns``):
        # when and where, a category, their own words and who was there (both encrypted).
        _entity(
            "concerns",
            "concern_id school_urn upn concern_on concern_time place category concern_text"
            " people_present recorded_by recorded_at",
            "concern_id school_urn",
        ),
        # What the designated safeguarding lead did with a concern: ``acknowledged`` it, or
        # ``shared`` it with a named staff account (``staff``), one row per act.
        _entity(
            "concern_events",
            "event_id concern_id school_urn event staff recorded_by recorded_at",
            "event_id concern_id school_urn event",
        ),
        # A leaver's child protection file sent to, and received by, their new school
        # (Keeping children safe in education: within five school days of leaving).
        _entity(
            "cp_file_transfers",
            "transfer_id school_urn upn sent_on received_on new_school recorded_by recorded_at",
            "transfer_id school_urn",
        ),
    )
}
