"""Plain-English pieces shared by every ``summary`` sentence in the analytics layer.

Staff read these sentences, not the numbers behind them, so the rules live in one place:
percentages are whole numbers (a decimal point suggests a precision the data never have),
ranges read "likely 45–77%", and counts always carry their noun ("9 uses").
"""

from __future__ import annotations

import math
from datetime import date

EN_DASH = "\u2013"


def percent(x: float) -> str:
    """A proportion in [0, 1] as a whole percentage: "62%", "<1%", ">99%".

    "<1%" and ">99%" stop a small but real chance from reading as "0%" or a near-certainty
    from reading as "100%".
    """
    if not math.isfinite(x):
        return "unknown"
    if x <= 0:
        return "0%"
    if x >= 1:
        return "100%"
    whole = round(x * 100)
    if whole < 1:
        return "<1%"
    if whole > 99:
        return ">99%"
    return f"{whole}%"


def percent_range(low: float, high: float) -> str:
    """A plausible range of a proportion: "likely 45–77%" (en dash, one percent sign)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "range unknown"
    lo = round(min(max(low, 0.0), 1.0) * 100)
    hi = round(min(max(high, 0.0), 1.0) * 100)
    # An upper bound short of certainty never reads as "100"; "<" and ">" signs would be
    # clutter inside a range, and a lower bound under 0.5% is "0" for any practical reading.
    if high < 1:
        hi = min(hi, 99)
    return f"likely {lo}{EN_DASH}{hi}%"


def count_phrase(n: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun: "1 use", "9 uses", "2 children" (give irregular plurals)."""
    noun = singular if n == 1 else (plural if plural is not None else f"{singular}s")
    return f"{n:,} {noun}"


def number(x: float, digits: int = 1) -> str:
    """A number rounded for reading: "2.5", "3" (not "3.0"), "1,250", "unknown" for NaN."""
    if math.isnan(x):
        return "unknown"
    if math.isinf(x):
        return "unlimited" if x > 0 else "minus unlimited"
    text = f"{x:,.{max(digits, 0)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


# One sentence each, written for a teacher who has never met the term. Other modules use
# these when a summary has to name a method, so no acronym reaches staff unexplained.
GLOSSARY: dict[str, str] = {
    "SEN": "Special educational needs: a child needs extra or different help to learn.",
    "SENCo": "The special educational needs co-ordinator, the teacher who leads SEN support.",
    "EHC plan": (
        "An education, health and care plan: a legal document from the local authority "
        "setting out a child's needs and the support they must receive."
    ),
    "SEN support": "Extra help in school for a child with SEN who does not have an EHC plan.",
    "NAP": (
        "Non-overlap of all pairs: the share of before-and-after comparisons in which the "
        "observation with the strategy was better (50% means no difference)."
    ),
    "Tau": (
        "A score from -1 to 1 built from the same comparisons as NAP: 0 means no "
        "difference, 1 means every observation with the strategy was better."
    ),
    "Tau-BC": ("Tau after removing any trend that was already present before the strategy began."),
    "PND": (
        "Percentage of non-overlapping data: the share of observations with the strategy "
        "that beat the best observation before it."
    ),
    "EWMA": (
        "Exponentially weighted moving average: a running average that gives recent "
        "observations more weight, used to spot a gradual drift."
    ),
    "CUSUM": (
        "Cumulative sum: a running total of small differences from the usual level, used "
        "to spot a small but persistent change."
    ),
    "EEF": (
        "The Education Endowment Foundation, which summarises research on what helps pupils learn."
    ),
    "FSM": "Free school meals: a pupil eligible for free meals, a common marker of low income.",
    "PP": "Pupil premium: extra school funding for disadvantaged pupils.",
    "EAL": "English as an additional language: a pupil whose first language is not English.",
    "ABC": (
        "Antecedent, behaviour, consequence: a record of what happened just before, the "
        "behaviour itself and what happened just after."
    ),
    "UPN": "Unique pupil number: the national identifier that follows a pupil between schools.",
    "URN": "Unique reference number: the national identifier of a school.",
    "PDF": (
        "Portable document format: a file that looks the same on every computer and printer; "
        "visiting professionals send their reports as PDFs."
    ),
    "MB": "Megabyte: a measure of a file's size (a report of a few pages is well under 1 MB).",
    "CTF": "Common transfer file: the file schools use to pass pupil records to each other.",
    "KS": "Key stage: one of the national stages of schooling (for example KS2 is Years 3-6).",
    "Wilson interval": (
        "A range for a percentage that stays sensible even when the count is small."
    ),
    "Rate ratio": (
        "How many times more often something happens in one context than in all others, "
        "allowing for how long each was observed."
    ),
    "DSL": (
        "Designated safeguarding lead: the senior member of staff who leads on keeping "
        "children safe and decides what happens when there is a concern."
    ),
    "Safeguarding concern": (
        "Something a member of staff saw or heard that worries them about a child's safety "
        "or welfare, written down in their own words and passed to the DSL, who alone (with "
        "those they share it with) can read it."
    ),
    "Chronology": (
        "The DSL's list, newest first, of everything that matters for one child's safety: "
        "concerns, triggers and decisions, incidents, suspensions, low attendance, actions."
    ),
    "Child protection file": (
        "The DSL's file on a child with safeguarding concerns; when the child changes school "
        "it must reach the new school within five school days (Keeping children safe in "
        "education)."
    ),
    "FGM": "Female genital mutilation, a form of abuse schools must report.",
    "SEND": "Special educational needs and disabilities.",
    "Early help": (
        "Support offered early, with the family's agreement, when a child or family needs "
        "more than a school alone can give, before problems grow."
    ),
    "MIS": (
        "Management information system: the school's main records system (for example SIMS, "
        "Arbor or Bromcom), whose reports EmpowerED+ imports."
    ),
    "CSV": (
        "Comma-separated values: a plain table saved as text, which spreadsheets and school "
        "systems can export."
    ),
    "Quarantined rows": (
        "Rows of an imported file kept aside because something in them could not be used "
        "(an unknown code, a missing date); each is shown with its file, row, column, value and "
        "reason so it can be put right at the source."
    ),
    "TOTP": (
        "Time-based one-time password: the 6-digit code an authenticator app shows, which "
        "changes every 30 seconds and is asked for at sign-in as a second factor."
    ),
    "UK GDPR": (
        "The UK General Data Protection Regulation: the law on handling personal data, "
        "including keeping it no longer than needed."
    ),
    "DPA 2018": "The Data Protection Act 2018: the UK law that sits beside the UK GDPR.",
    "GIAS": (
        "Get Information About Schools: the Department for Education's register of every "
        "school in England, with its URN, phase, type and local authority."
    ),
    "DfE": "The Department for Education.",
    "DfE number": (
        "A school's local authority code and establishment number together (7 digits), "
        "which transfer files use to name a school."
    ),
    "JSON": (
        "A plain-text format for structured data, in which services such as Wonde and "
        "Assembly give a school's records."
    ),
    "IRMS": (
        "The Information and Records Management Society, whose toolkit for schools suggests "
        "how long each kind of school record is kept."
    ),
    "Annual review": (
        "The yearly review of an EHC plan, held within 12 months of the last: advice and "
        "papers go out at least two weeks before the meeting and the report within two "
        "weeks after it."
    ),
    # The census's codes for a pupil's primary need, as school systems export them.
    "ASD": "Autistic spectrum disorder (autism), a primary need on the SEN register.",
    "DS": "Down syndrome, a primary need on the SEN register.",
    "HI": "Hearing impairment, a primary need on the SEN register.",
    "MLD": "Moderate learning difficulty, a primary need on the SEN register.",
    "MSI": "Multi-sensory impairment (both sight and hearing), a primary need.",
    "NSA": (
        "SEN support but no specialist assessment of the type of need yet: a pupil on the "
        "register whose need has not been assessed."
    ),
    "OTH": "Other difficulty or disability: a primary need that fits no other census type.",
    "PD": "Physical disability, a primary need on the SEN register.",
    "PMLD": "Profound and multiple learning difficulty, a primary need on the SEN register.",
    "SEMH": "Social, emotional and mental health, a primary need on the SEN register.",
    "SLCN": "Speech, language and communication needs, a primary need on the SEN register.",
    "SLD": "Severe learning difficulty, a primary need on the SEN register.",
    "SPLD": (
        "Specific learning difficulty (for example dyslexia or dyscalculia), a primary need "
        "on the SEN register."
    ),
    "VI": "Visual impairment, a primary need on the SEN register.",
    "K/E": (
        "The census's letters for SEN status: K is SEN support, E is an EHC plan (N means "
        "no special educational need)."
    ),
    "ELSA": (
        "Emotional literacy support assistant: a teaching assistant trained to help pupils "
        "understand and manage their feelings, one to one or in small groups."
    ),
    "PE": "Physical education: the school subject of sport, games and exercise.",
    "SIMS": (
        "One of the management information systems (MIS) English schools use; Arbor, "
        "Bromcom and ScholarPack are others."
    ),
    "Staff code": (
        "The initials the school's MIS gives a member of staff; a record imported from "
        'the MIS names its author this way ("staff member" and the initials).'
    ),
    "Lasting change": (
        "A point after which a child's mood or engagement stayed at a new level for at least "
        "two school weeks, found by splitting the child's daily averages into stretches with "
        "different levels (the PELT method, allowing for good and bad weeks) and listed only "
        "when the levels differ by half a point or more."
    ),
    "Before and after a strategy": (
        "A comparison of each of the child's days with a mood check-in after a strategy was "
        "first used with each day in the six school weeks or so before it, where '7 in 10' "
        "means 7 in 10 of those comparisons found the later day better and 5 in 10 is no "
        "change (worked out as NAP, or as Tau-BC when mood was already rising or falling, "
        "with a likely range that is a 95% confidence interval): a comparison, not proof the "
        "strategy caused the change."
    ),
    "PELT": (
        "Pruned exact linear time: a method that finds the points where a series of "
        "numbers settles at a new level."
    ),
    "Code of Practice": (
        "The SEND Code of Practice: the statutory guidance schools follow for SEN support "
        "and EHC plans."
    ),
}


def day_text(day: date) -> str:
    """'5 January 2026': the way dates are written for staff (no leading zero, no weekday)."""
    return f"{day.day} {day:%B %Y}"
