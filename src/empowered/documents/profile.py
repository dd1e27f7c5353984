"""The one-page profile (pupil passport): the child on one A4 page, for staff new to them
and for supply staff.

What it holds is the plan's own words (what people like and admire about the child, what
is important to them, how best to support them), what helps (the strategies the plan names,
with what the check-ins say about each, and the other strategies the check-ins show
helping), the child's needs in a line and the plan's next review. Nothing else: the
document's scope (``access.documents``) holds no safeguarding, notes or early signs, and
this module reads only the pupil page's and the plan page's services with it.

It must stay on one page: it is rendered with as much of each part as fits (``ROOMS``, most
first), a box cut short ending with a pointer to the plan and a list cut short saying how
many more there are and where to see them. A child with no plan gets a page that says so,
with what the school knows (their needs, what helps).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb

from empowered.access.sections import Section
from empowered.analytics.strategies import StrategyEffect
from empowered.analytics.wording import day_text
from empowered.documents.made import Made
from empowered.documents.pdf import render_pdf
from empowered.documents.registry import Ask, child_line, heading, made
from empowered.documents.render import Heading, render_document
from empowered.views.plan import PlanPage, PlanVersion, plan_page
from empowered.views.pupil import PupilPicture, Status, pupil_picture


# How much of each part the page holds, most first: the profile is rendered with each in
# turn until it fits on one page. The last is measured on A4 with the longest plan the form
# accepts, written with nine of the needs' letters (each explained in a line of its own),
# and long lists (tests/documents/test_profile.py), so every profile fits at the latest
# with it.
@dataclass(frozen=True)
class Room:
    box: int  # characters of each of the plan's boxes
    in_plan: int  # strategies the plan names
    seen_helping: int  # other strategies the check-ins show helping
    helps: int  # characters of what the records say about one strategy
    summary: int  # characters of what the check-ins say overall


ROOMS: tuple[Room, ...] = (
    Room(box=900, in_plan=8, seen_helping=6, helps=400, summary=300),
    Room(box=500, in_plan=5, seen_helping=3, helps=220, summary=160),
    Room(box=260, in_plan=3, seen_helping=2, helps=160, summary=110),
    # For a plan full of letters (ASD, SLCN...): each is explained in a line of its own.
    Room(box=160, in_plan=2, seen_helping=1, helps=120, summary=80),
)
TIGHTEST = ROOMS[-1]

# The plan's boxes the profile shows, in the child's voice (a pupil passport's headings).
BOXES: tuple[tuple[str, str], ...] = (
    ("strengths", "What people like and admire about me"),
    ("important_to_me", "What is important to me"),
    ("how_to_support", "How best to support me"),
)
PLAN_REST = "The rest is in my plan in EmpowerED+."


@dataclass(frozen=True)
class Box:
    heading: str
    text: str | None  # None: the plan leaves it empty
    cut: bool = False  # cut to fit the page (the rest is in the plan)


@dataclass(frozen=True)
class Helps:
    """One strategy and what the records say about it for this child, in words."""

    name: str
    words: str


@dataclass(frozen=True)
class HelpsList:
    shown: tuple[Helps, ...]
    more: int = 0  # how many more there are than the page has room for


@dataclass(frozen=True)
class Profile:
    """What the page says; :func:`fitted` cuts it to the room a page has."""

    pupil_key: str
    about: str  # "Sam Smith, Year 4"
    needs: str | None  # "SEN support; main need: speech, language and communication needs."
    plan: str | None  # "SEN support plan, since 1 September 2026"; None: no current plan
    plan_shown: bool  # whether the plan is open to whoever asked
    review: str | None  # "Next review: 6 July 2027." (or when it was due, if overdue)
    boxes: tuple[Box, ...]
    in_plan: HelpsList  # the strategies the plan names
    seen_helping: HelpsList  # other strategies the check-ins show helping
    # What the check-ins say overall ("2 strategies with enough uses to judge; none stands
    # out yet"), to follow a colon; None: what helps is not in the scope.
    helps_summary: str | None


def cut(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut at the last word that fits in ``limit`` characters, with an ellipsis,
    and whether it was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text, False
    head = text[: limit - 1]
    if " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:.") + "…", True


def _listed(items: HelpsList, room: int, characters: int) -> HelpsList:
    shown = tuple(Helps(h.name, cut(h.words, characters)[0]) for h in items.shown[:room])
    return HelpsList(shown, items.more + max(0, len(items.shown) - room))


def _box(box: Box, room: int) -> Box:
    if box.text is None:
        return box
    text, was_cut = cut(box.text, room)
    return Box(box.heading, text, box.cut or was_cut)


def fitted(p: Profile, room: Room) -> Profile:
    """The profile cut to ``room``: long boxes end with a pointer to the plan, long lists
    say how many more there are."""
    return replace(
        p,
        boxes=tuple(_box(b, room.box) for b in p.boxes),
        in_plan=_listed(p.in_plan, room.in_plan, room.helps),
        seen_helping=_listed(p.seen_helping, room.seen_helping, room.helps),
        helps_summary=None
        if p.helps_summary is None
        else _lower_first(cut(p.helps_summary, room.summary)[0]),
    )


def helped(effect: StrategyEffect) -> bool:
    """A strategy the check-ins show helping this child: judged on enough uses, and either
    standing out or followed by a calmer mood at least as often as the child's strategies
    are overall (one followed by calm less often than usual is not "what helps")."""
    if effect.not_enough is not None:
        return False
    return effect.stands_out or effect.calmer_rate.estimate >= effect.child_rate


def _in_plan(plan: PlanVersion | None) -> list[Helps]:
    """The plan's outcomes' strategies, each once, with what the analytics say."""
    seen: dict[str, Helps] = {}
    for outcome in plan.outcomes if plan else ():
        for s in outcome.strategies:
            seen.setdefault(s.code, Helps(s.name, s.helps))
    return list(seen.values())


def _seen_helping(picture: PupilPicture, named: set[str]) -> list[Helps]:
    """Strategies not in the plan that the check-ins show helping, standing out first."""
    found = [e for e in picture.what_helps.effects if helped(e) and e.strategy_code not in named]
    found.sort(key=lambda e: (not e.stands_out, -e.calmer_rate.estimate, e.strategy_name))
    return [Helps(e.strategy_name, e.summary) for e in found]


def _lower_first(text: str) -> str:
    """A sentence to follow a colon: "Autistic spectrum disorder." -> "autistic spectrum
    disorder" (letters such as "ASD" kept as they are)."""
    if text[1:2].islower():
        text = text[:1].lower() + text[1:]
    return text.rstrip(".")


def _needs(status: Status) -> str | None:
    """The child's SEN status and main need in words (None when the scope holds neither)."""
    if not status.sen_provision:
        return None
    if status.sen_provision == "N":
        return "Not on the special educational needs register."
    text = status.sen_provision_name or "On the special educational needs register"
    need = status.primary_need_name or status.primary_need
    if need:
        text += f"; main need: {_lower_first(need)}"
    return text + "."


def _review(picture: PupilPicture, plan: PlanVersion) -> str:
    """When the plan is reviewed next: from the latest review held (the pupil page's
    plans), else the date the plan itself gives."""
    held = next((p for p in picture.plans.plans if p.plan_id == plan.plan_id), None)
    due = held.next_review_due if held and held.next_review_due else plan.next_review_due
    if due is None:
        return "No review date set yet."
    if held is not None and held.review_overdue:
        return f"The review was due on {day_text(due)} and has not been held yet."
    return f"Next review: {day_text(due)}."


def _plan_line(plan: PlanVersion) -> str:
    """ "EHC plan, since 1 September 2026" (the plan form's "EHC plan outcomes" names the
    boxes, not the plan)."""
    return f"{plan.type_label.removesuffix(' outcomes')}, since {day_text(plan.start_date)}"


def _boxes(plan: PlanVersion | None) -> tuple[Box, ...]:
    if plan is None:
        return ()
    texts = {name: text for name, _, text in plan.texts}
    return tuple(Box(title, (texts.get(name) or "").strip() or None) for name, title in BOXES)


def profile(con: duckdb.DuckDBPyConnection, ask: Ask) -> Profile:
    """What the page says, in full, from the pupil page's and the plan page's services with
    the document's scope. Raises :class:`empowered.views.OutOfScope` for a pupil outside
    it."""
    assert ask.pupil_key is not None, "a profile is about one pupil"
    key = ask.pupil_key
    picture = pupil_picture(con, key, scope=ask.scope, cache=ask.cache)
    plan_shown = ask.scope.shows(Section.PLAN_DETAILS)
    page: PlanPage | None = (
        plan_page(con, key, scope=ask.scope, cache=ask.cache) if plan_shown else None
    )
    plan = page.current if page else None
    helps_shown = ask.scope.shows(Section.PUPIL_WHAT_HELPS)
    named = {s.code for o in (plan.outcomes if plan else ()) for s in o.strategies}
    return Profile(
        pupil_key=key,
        about=child_line(picture, f"The pupil with key {key}"),
        needs=_needs(picture.status),
        plan=_plan_line(plan) if plan else None,
        plan_shown=plan_shown,
        review=_review(picture, plan) if plan else None,
        boxes=_boxes(plan),
        in_plan=HelpsList(tuple(_in_plan(plan))),
        seen_helping=HelpsList(tuple(_seen_helping(picture, named) if helps_shown else ())),
        helps_summary=picture.what_helps.summary if helps_shown else None,
    )


def render_profile(h: Heading, p: Profile) -> str:
    return render_document("profile.html", h, {"p": p, "plan_rest": PLAN_REST})


def one_page(h: Heading, p: Profile) -> tuple[bytes, int]:
    """The profile's PDF and its pages, with as much as one page holds (the tightest room
    when nothing else fits: measured to fit)."""
    for room in ROOMS:
        body, pages = render_pdf(render_profile(h, fitted(p, room)))
        if pages == 1:
            break
    return body, pages


def make(con: duckdb.DuckDBPyConnection, ask: Ask) -> Made:
    p = profile(con, ask)
    body, pages = one_page(heading(con, ask, p.about), p)
    return made(ask, body, pages)
