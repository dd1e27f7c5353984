"""Crawling the pages a signed-in role can open, and the text a person sees on them.

The crawl starts at the home page and follows the links on each page (navigation and
content), opening one page of each shape (``/pupils/<key>`` once, not for every pupil) so a
whole role's pages are read in seconds. Only GET links inside the app are followed; sign-out,
downloads and the API are left alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

from fastapi.testclient import TestClient

# Elements whose content no one reads on the page.
_INVISIBLE = {"script", "style", "template", "head", "title", "noscript"}
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
_BLOCKS = {
    "p",
    "div",
    "li",
    "td",
    "th",
    "dt",
    "dd",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "caption",
    "option",
    "label",
    "br",
    "section",
    "summary",
    "legend",
    "button",
}
CELL = " \u00b6 "  # where one block or cell ends and the next begins, in ``visible_text``
_SKIP_PATHS = re.compile(
    r"^/(sign-out|api|static|docs|openapi)|\.(csv|xlsx|pdf|json|zip)$|/download"
)
# Path segments that name one record: a pupil key, a number, a date, a hex id.
_ID_SEGMENT = re.compile(r"^([A-Z]?[0-9a-f]{8,}|\d+|\d{4}-\d\d-\d\d|[A-Za-z0-9_-]{20,})$")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden: list[str] = []  # open elements whose text is not shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "a" and named.get("href"):
            self.links.append(named["href"] or "")
        if tag in _BLOCKS and not self._hidden:
            self.parts.append(CELL)  # "School" in one cell and "803391" in the next are apart
        if tag in _VOID:
            return
        if tag in _INVISIBLE or "hidden" in named:
            self._hidden.append(tag)
        elif self._hidden:
            self._hidden.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._hidden and tag in _VOID:
            return
        if self._hidden:
            # Close back to the matching element (HTML allows some end tags to be left out).
            while self._hidden and self._hidden.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> tuple[str, list[str]]:
    """The page's visible words (tags, scripts, styles and hidden parts removed) and links."""
    parser = _Text()
    parser.feed(html)
    text = re.sub(r"\s+", " ", " ".join(parser.parts))
    return text, parser.links


def shape(path: str) -> str:
    return "/".join("*" if _ID_SEGMENT.match(s) else s for s in path.split("/"))


def crawl(client: TestClient, per_shape: int = 4, limit: int = 120) -> Iterator[tuple[str, str]]:
    """(path, visible text) of the pages the client can open from the home page: up to
    ``per_shape`` of each shape (several pupils, since what a page shows depends on the
    pupil's records), ``limit`` in all."""
    opened: dict[str, int] = {}
    done: set[str] = set()
    queue = ["/"]
    while queue and len(done) < limit:
        path = queue.pop(0)
        kind = shape(path.split("?")[0])
        if path in done or opened.get(kind, 0) >= per_shape:
            continue
        done.add(path)
        opened[kind] = opened.get(kind, 0) + 1
        response = client.get(path, follow_redirects=False)
        if response.status_code != 200 or "text/html" not in response.headers.get(
            "content-type", ""
        ):
            continue
        text, links = visible_text(response.text)
        yield path, text
        for link in links:
            target = link.split("#")[0]
            if target.startswith("/") and not _SKIP_PATHS.search(target.split("?")[0]):
                queue.append(target)
