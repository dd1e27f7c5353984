"""A school's quick observation form as Microsoft Forms or Google Forms exports it.

The canonical observations, strategy uses and incidents of one school become form
responses worded as in the default form definition (sources/forms.py), so
``FormsReader()`` reads them back. A strategy use and the observation made at the same
moment were one form filled in, so they share a response, and so does an incident
recorded at that moment by the same adult in the same activity and place.

Planted mess (each an added response, so every canonical row still arrives once):
- a response for a pupil whose name matches nobody at the school;
- a response with mood answered "9", outside the 1-5 scale;
- a response exported twice (same Microsoft ID, or same Google timestamp, staff and pupil).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from empowered.sources.forms import DEFAULT_FORM, FormDefinition
from empowered.synth.rng import substream
from empowered.synth.school_formats.base import CanonicalTrust, PlantedMess

STYLES = ("microsoft", "google")
# The order questions appear in the written form: who, when and where first.
QUESTION_ORDER = (
    "activity",
    "setting",
    "mood",
    "engagement",
    "regulation",
    "note",
    "strategy_code",
    "outcome",
    "strategy_note",
    "antecedent",
    "behaviour",
    "consequence",
    "intensity",
    "duration_minutes",
)
NO_MATCH_REASON = "no pupil on roll at this school matches it"
AMBIGUOUS_REASON = "pupils at this school: give the UPN or date of birth"
NAME_ONLY_REASON = "gives a name only"
MOOD_REASON = "is not a whole number from 1 to 5"
REPEAT_REASON = "repeats row"


@dataclass
class Response:
    upn: str
    on: str  # ISO date from the canonical files
    at: str  # HH:MM
    staff_id: str
    answers: dict[str, str]  # canonical field -> canonical value
    pupil_text: str = ""
    completed: datetime | None = None
    started: datetime | None = None
    response_id: int = 0


def name_key(text: str) -> str:
    """How staging compares names: lower case without spaces or punctuation."""
    return re.sub(r"[ ,.'-]", "", text.lower())


def latest_groups(trust: CanonicalTrust, school_urn: str) -> dict[str, str]:
    """Each pupil's latest registration group. Staging matches a name with the pupil's
    latest group, so that is the group staff are shown writing."""
    latest: dict[str, tuple[str, str]] = {}
    for row in trust.for_school("characteristics", school_urn):
        upn, when, group = row["upn"], row["effective_date"], row["reg_group"]
        if group and (upn not in latest or when >= latest[upn][0]):
            latest[upn] = (when, group)
    return {upn: group for upn, (_, group) in latest.items()}


def pupil_names(trust: CanonicalTrust, school_urn: str) -> dict[str, tuple[str, str]]:
    return {r["upn"]: (r["forename"], r["surname"]) for r in trust.for_school("pupils", school_urn)}


def roll_keys(names: dict[str, tuple[str, str]]) -> set[str]:
    keys: set[str] = set()
    for forename, surname in names.values():
        keys.add(name_key(forename + surname))
        keys.add(name_key(surname + forename))
    return keys


def unmatchable_pupils(names: dict[str, tuple[str, str]], groups: dict[str, str]) -> dict[str, str]:
    """Pupils a form cannot name for certain, with the reason staging will give: a name and
    group that also fit another pupil, or no group at all. Their rows are real mess, not
    planted, but reported with the planted mess so tests expect them."""
    seen: dict[tuple[str, str], set[str]] = {}
    for upn, (forename, surname) in names.items():
        group = groups.get(upn, "").upper()
        for key in {name_key(forename + surname), name_key(surname + forename)}:
            seen.setdefault((key, group), set()).add(upn)
    reasons = {upn: NAME_ONLY_REASON for upn in names if not groups.get(upn)}
    for upns in seen.values():
        if len(upns) > 1:
            reasons.update(dict.fromkeys(upns, AMBIGUOUS_REASON))
    return reasons


def _responses(trust: CanonicalTrust, school_urn: str) -> list[Response]:
    responses: list[Response] = []
    by_moment: dict[tuple[str, str, str], Response] = {}
    for r in trust.for_school("observations", school_urn):
        answers = {
            k: r[k]
            for k in ("activity", "setting", "mood", "engagement", "regulation", "note")
            if r[k]
        }
        response = Response(r["upn"], r["observed_on"], r["observed_time"], r["staff_id"], answers)
        responses.append(response)
        by_moment.setdefault((r["upn"], r["observed_on"], r["observed_time"]), response)

    def joinable(found: Response | None, r: dict[str, str], fields: tuple[str, ...]) -> bool:
        # One response is one adult's one form: join only when who, what and where agree
        # and the response does not already hold that kind of record.
        return (
            found is not None
            and found.staff_id == r["staff_id"]
            and found.answers.get("activity", "") == r["activity"]
            and found.answers.get("setting", "") == r["setting"]
            and not any(f in found.answers for f in fields)
        )

    for r in trust.for_school("strategy_uses", school_urn):
        moment = (r["upn"], r["used_on"], r["used_time"])
        answers = {
            "strategy_code": r["strategy_code"],
            "outcome": r["outcome"],
            "strategy_note": r["note"],
        }
        answers = {k: v for k, v in answers.items() if v}
        found = by_moment.get(moment)
        if found is not None and joinable(found, r, ("strategy_code", "outcome")):
            found.answers.update(answers)
        else:
            context = {k: r[k] for k in ("activity", "setting") if r[k]}
            response = Response(r["upn"], r["used_on"], r["used_time"], r["staff_id"], {})
            response.answers = {**context, **answers}
            responses.append(response)
            by_moment.setdefault(moment, response)

    incident_fields = ("antecedent", "behaviour", "consequence", "intensity", "duration_minutes")
    for r in trust.for_school("incidents", school_urn):
        moment = (r["upn"], r["occurred_on"], r["occurred_time"])
        answers = {k: r[k] for k in incident_fields if r[k]}
        found = by_moment.get(moment)
        if found is not None and joinable(found, r, incident_fields):
            found.answers.update(answers)
        else:
            context = {k: r[k] for k in ("activity", "setting") if r[k]}
            response = Response(r["upn"], r["occurred_on"], r["occurred_time"], r["staff_id"], {})
            response.answers = {**context, **answers}
            responses.append(response)
            by_moment.setdefault(moment, response)
    return responses


def _email_domain(trust: CanonicalTrust, school_urn: str) -> str:
    for row in trust.rows("schools"):
        if row["school_urn"] == school_urn:
            slug = re.sub(r"[^a-z0-9]+", "-", row["school_name"].lower()).strip("-")
            return f"{slug or school_urn}.example"  # .example is reserved: never a real school
    return f"school-{school_urn}.example"


def _header(definition: FormDefinition, style: str) -> list[str]:
    questions = [definition.pupil[0]]
    questions += [
        q.headers[0] for f in QUESTION_ORDER if (q := definition.questions.get(f)) is not None
    ]
    if style == "microsoft":
        return ["ID", "Start time", "Completion time", "Email", "Name", *questions]
    return ["Timestamp", "Email address", *questions]


def _stamp(when: datetime) -> str:
    return when.strftime("%d/%m/%Y %H:%M:%S")


def write_forms_export(
    trust: CanonicalTrust,
    out_dir: Path,
    *,
    school_urn: str,
    style: str = "microsoft",
    seed: int,
) -> tuple[Path, list[PlantedMess]]:
    """Write one school's form responses as a CSV export; return it and the planted mess."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    definition = DEFAULT_FORM
    rng = substream(seed, f"forms-export-{style}", int(re.sub(r"\D", "", school_urn) or 0))
    names = pupil_names(trust, school_urn)
    groups = latest_groups(trust, school_urn)
    clash = unmatchable_pupils(names, groups)
    domain = _email_domain(trust, school_urn)

    responses = _responses(trust, school_urn)
    responses.sort(key=lambda r: (r.on, r.at, r.upn, r.staff_id))
    for response in responses:
        forename, surname = names.get(response.upn, ("", ""))
        group = groups.get(response.upn)
        name = f"{forename} {surname}".strip()
        response.pupil_text = f"{name} ({group})" if group else name
        day = date.fromisoformat(response.on)
        hour, minute = (int(x) for x in response.at.split(":"))
        response.completed = datetime(day.year, day.month, day.day, hour, minute) + timedelta(
            seconds=int(rng.integers(60))
        )
        response.started = response.completed - timedelta(seconds=int(rng.integers(25, 300)))

    # Mess is planted on responses that hold an observation only, so each planted row
    # produces exactly one record and one quarantined row.
    plain = [
        i
        for i, r in enumerate(responses)
        if set(r.answers) <= {"activity", "setting", "mood", "engagement", "regulation", "note"}
        and "mood" in r.answers
        and r.upn not in clash
    ]
    picks = rng.choice(len(plain), size=min(3, len(plain)), replace=False).tolist()
    planted: dict[int, str] = {}  # index in the final list -> kind
    extra: list[tuple[int, Response, str]] = []  # (insert after index, response, kind)
    keys = roll_keys(names)
    if len(picks) == 3:
        nobody_src, mood_src, repeat_src = (plain[p] for p in picks)
        source = responses[nobody_src]
        stranger = stranger_name(names, keys, rng)
        group = groups.get(source.upn)
        nobody = _copy(source, minutes=7)
        nobody.pupil_text = f"{stranger} ({group})" if group else stranger
        extra.append((nobody_src, nobody, "nobody"))
        mood = _copy(responses[mood_src], minutes=11)
        mood.answers["mood"] = "9"
        extra.append((mood_src, mood, "mood"))
        extra.append((repeat_src, responses[repeat_src], "repeat"))

    final: list[Response] = []
    after: dict[int, list[tuple[Response, str]]] = {}
    for index, response, kind in extra:
        after.setdefault(index, []).append((response, kind))
    for i, response in enumerate(responses):
        final.append(response)
        for added, kind in after.get(i, []):
            final.append(added)
            planted[len(final) - 1] = kind

    # Microsoft numbers responses as they arrive; a response exported twice keeps its ID.
    next_id = 0
    numbered: dict[int, int] = {}
    for i, response in enumerate(final):
        if planted.get(i) == "repeat":
            continue
        next_id += 1
        numbered[id(response)] = next_id
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"daily-check-in-{school_urn}-{style}.csv"
    header = _header(definition, style)
    mess: list[PlantedMess] = []
    encoding = "utf-8-sig" if style == "microsoft" else "utf-8"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i, response in enumerate(final):
            row_number = i + 2
            writer.writerow(_row(definition, style, response, numbered[id(response)], domain))
            what = planted.get(i)
            if what == "nobody":
                name, _, _ = response.pupil_text.rpartition(" (")
                mess.append(
                    PlantedMess(
                        path.name,
                        row_number,
                        "pupil_name",
                        name or response.pupil_text,
                        NO_MATCH_REASON,
                    )
                )
            elif what == "mood":
                mess.append(PlantedMess(path.name, row_number, "mood", "9", MOOD_REASON))
            elif what == "repeat":
                mess.append(PlantedMess(path.name, row_number, "observation_id", "", REPEAT_REASON))
            elif response.upn in clash:
                name = response.pupil_text.rpartition(" (")[0] or response.pupil_text
                mess.append(
                    PlantedMess(path.name, row_number, "pupil_name", name, clash[response.upn])
                )
    return path, mess


def _copy(response: Response, *, minutes: int) -> Response:
    """The same form filled in again a few minutes later (a new response)."""
    assert response.completed is not None and response.started is not None
    shift = timedelta(minutes=minutes)
    return replace(
        response,
        answers=dict(response.answers),
        completed=response.completed + shift,
        started=response.started + shift,
    )


def stranger_name(
    names: dict[str, tuple[str, str]], keys: set[str], rng: np.random.Generator
) -> str:
    """A plausible name (a forename and a surname from the school) that fits no pupil at
    the school in either order."""
    forenames = sorted({f for f, _ in names.values()})
    surnames = sorted({s for _, s in names.values()})
    forenames = [forenames[i] for i in rng.permutation(len(forenames)).tolist()]
    surnames = [surnames[i] for i in rng.permutation(len(surnames)).tolist()]
    for forename in forenames:
        for surname in surnames:
            candidate = f"{forename} {surname}"
            if (
                name_key(forename + surname) not in keys
                and name_key(surname + forename) not in keys
            ):
                return candidate
    return "Nobody Known"


def _row(
    definition: FormDefinition, style: str, response: Response, number: int, domain: str
) -> list[str]:
    assert response.completed is not None and response.started is not None
    answers = [response.pupil_text]
    for f in QUESTION_ORDER:
        question = definition.questions.get(f)
        if question is None:
            continue
        value = response.answers.get(f, "")
        answers.append(question.label_for(value) if value else "")
    email = f"{response.staff_id}@{domain}" if response.staff_id else ""
    if style == "microsoft":
        return [
            str(number),
            _stamp(response.started),
            _stamp(response.completed),
            email,
            response.staff_id,  # the display name: a code here, never an invented name
            *answers,
        ]
    return [_stamp(response.completed), email, *answers]
