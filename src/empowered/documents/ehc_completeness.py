"""What a local authority will find missing from an EHC evidence pack: a small pure check.

A request for an EHC needs assessment is turned down, or sent back, most often because
the evidence of the graduated approach is thin: too few assess-plan-do-review cycles,
outcomes with no starting point to measure progress from, no recent specialist advice,
no record of what the child and the parents think, provision without its cost. The pack
says so near its top, in plain words, with what to do about each, so the SENCo can fix it
before sending. The rules read :class:`PackFacts` only, so each can be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from empowered.analytics.wording import count_phrase, day_text

ENOUGH_CYCLES = 2  # authorities look for two or three reviewed cycles
REPORT_WITHIN = timedelta(days=365)  # a professional's report from the last 12 months
NOTHING_MISSING = "Nothing obvious is missing."


@dataclass(frozen=True)
class PackFacts:
    """What the check needs to know about one pack."""

    made_on: date
    reviewed_cycles: int
    outcomes: int  # in the current plan
    outcomes_without_baseline: tuple[str, ...]  # their words
    latest_report_on: date | None  # the newest professional's report
    has_pupil_views: bool
    has_parent_views: bool
    uncosted_provision: tuple[str, ...]  # interventions' names


@dataclass(frozen=True)
class Gap:
    what: str  # what the authority will find missing
    fix: str  # what to do before sending


def _shortlist(names: tuple[str, ...], most: int = 3) -> str:
    shown = ", ".join(f"“{n.rstrip('.')}”" for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _cycles(f: PackFacts) -> Gap | None:
    if f.reviewed_cycles >= ENOUGH_CYCLES:
        return None
    held = "No" if f.reviewed_cycles == 0 else "Only one"
    return Gap(
        f"{held} reviewed cycle of assess, plan, do and review is recorded; an authority "
        "usually looks for two or three.",
        "Record each review held of the pupil's plan (on the pupil's reviews page), with "
        "the progress made on each outcome.",
    )


def _outcomes(f: PackFacts) -> Gap | None:
    if f.outcomes:
        return None
    return Gap(
        "No current plan with outcomes is recorded, so the pack cannot say what the support "
        "is for.",
        "Add the outcomes agreed with the family to the pupil's plan.",
    )


def _baselines(f: PackFacts) -> Gap | None:
    missing = f.outcomes_without_baseline
    if not missing:
        return None
    return Gap(
        f"{count_phrase(len(missing), 'outcome')} ha{'s' if len(missing) == 1 else 've'} no "
        f"baseline to measure progress from: {_shortlist(missing)}.",
        "Record where the child started: an intervention for that area with an entry score, "
        "or an assessment before the outcome was set.",
    )


def _report(f: PackFacts) -> Gap | None:
    if f.latest_report_on is not None and f.latest_report_on >= f.made_on - REPORT_WITHIN:
        return None
    when = (
        f"the latest is from {day_text(f.latest_report_on)}"
        if f.latest_report_on
        else "none is recorded"
    )
    return Gap(
        f"No report from a specialist or other professional in the last 12 months ({when}).",
        "Ask the educational psychologist, speech and language therapist or other "
        "specialist involved for their advice, and record it on the pupil's page.",
    )


def _pupil_views(f: PackFacts) -> Gap | None:
    if f.has_pupil_views:
        return None
    return Gap(
        "The child's own views are not recorded at any review.",
        "Ask the child what is going well and what is hard, in the way that suits them, "
        "and record it with the next review.",
    )


def _parent_views(f: PackFacts) -> Gap | None:
    if f.has_parent_views:
        return None
    return Gap(
        "The parents' or carers' views are not recorded at any review.",
        "Meet the parents or carers and record their views with the review.",
    )


def _costs(f: PackFacts) -> Gap | None:
    missing = f.uncosted_provision
    if not missing:
        return None
    return Gap(
        f"{count_phrase(len(missing), 'intervention')} ha{'s' if len(missing) == 1 else 've'} "
        f"no cost recorded: {_shortlist(missing)}.",
        "Add the staff time and hourly cost (and any materials) to each intervention on the "
        "Provision page.",
    )


RULES = (_cycles, _outcomes, _baselines, _costs, _report, _pupil_views, _parent_views)


def gaps(facts: PackFacts) -> tuple[Gap, ...]:
    """What an authority will find missing, in the order the pack's sections meet it;
    none when nothing obvious is missing."""
    return tuple(g for rule in RULES if (g := rule(facts)) is not None)
