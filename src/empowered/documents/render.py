"""Documents' HTML: their Jinja templates (``documents/templates``, which may include the
pages' own partials from ``web/templates``), the pages' date filters, the letterhead, and
"Words used in this document" made from the acronyms the document actually holds."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from empowered.documents.acronyms import words_used
from empowered.documents.letterhead import Letterhead
from empowered.web.words import day, short_day

HERE = Path(__file__).parent
WEB_TEMPLATES = HERE.parent / "web" / "templates"
WORDS_MARK = "<!-- words used -->"


@dataclass(frozen=True)
class Heading:
    """What every document says about itself at its head and foot."""

    title: str  # "Report for parents and carers"
    about: str  # "Sam Smith, Year 4" / "Oakfield Primary, spring term 2027"
    letterhead: Letterhead
    prepared_by: str  # "the SENCo (account ms-green)" / "the school's SEN team"
    made_on: date


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(HERE / "templates")), FileSystemLoader(str(WEB_TEMPLATES))]
        ),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The pages' own ways of writing a date (web/words.py).
    env.filters.update(day=day, short_day=short_day)
    env.globals["css"] = css
    return env


@cache
def css() -> str:
    """The documents' print style sheet, inline (documents fetch nothing)."""
    return resources.files("empowered.documents").joinpath("templates/document.css").read_text()


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.DOTALL | re.IGNORECASE)


def visible_text(page: str) -> str:
    """The words a reader sees in a document's HTML (tags, styles and comments dropped)."""
    return html_lib.unescape(_TAGS.sub(" ", re.sub(r"<!--.*?-->", " ", page, flags=re.DOTALL)))


def render_document(template: str, heading: Heading, context: dict[str, Any]) -> str:
    """The document's HTML: ``template`` (extending ``_document.html``) with ``heading``,
    then the explanation of every acronym it holds in place of ``WORDS_MARK``."""
    env = environment()
    page = env.get_template(template).render(h=heading, **context)
    words = words_used(visible_text(page))
    box = env.get_template("_words.html").render(words=words)
    return page.replace(WORDS_MARK, box, 1)
