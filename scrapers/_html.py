"""Small helpers for reading untrusted HTML pages with beautifulsoup4 and lxml.

Every page is parsed from its bytes (so the parser honours the page's own ``<meta charset>``,
not a guess from the HTTP headers) with the parser named explicitly (``"lxml"``), so results
do not depend on which parsers a machine happens to have. Text is always taken as text:
markup inside it is never interpreted, and runs of white space (CR and LF included) collapse
to one space, so a title can never smuggle a line break into a header or a digest line.

Lookups that a parser relies on raise :class:`~tracker.errors.ParseError` naming the document
and the selector that found nothing.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString

from tracker.errors import ParseError

PARSER = "lxml"
_SPACES = re.compile(r"\s+")


def collapse(text: str) -> str:
    """Runs of white space (non-breaking spaces, CR and LF included) -> one space; stripped."""
    return _SPACES.sub(" ", text.replace("\xa0", " ")).strip()


def soup_of(body: bytes, *, document: str) -> BeautifulSoup:
    """``body`` parsed as HTML by lxml; an empty body is a ParseError naming ``document``."""
    if not body.strip():
        raise ParseError("empty document", document=document)
    soup = BeautifulSoup(body, PARSER)
    if soup.find(True) is None:
        raise ParseError("no HTML elements in the document", document=document)
    return soup


def text_of(element: Tag) -> str:
    """The element's whole text, block boundaries kept as spaces, white space collapsed."""
    return collapse(element.get_text(" "))


def own_text(element: Tag) -> str:
    """Only the text directly inside ``element`` (not inside its child elements), collapsed."""
    return collapse(" ".join(str(child) for child in element.children
                             if isinstance(child, NavigableString) and _is_text(child)))


def _is_text(node: NavigableString) -> bool:
    # Comments, CDATA and doctype nodes are NavigableString subclasses too.
    return type(node) is NavigableString


def require(scope: Tag, selector: str, *, document: str) -> Tag:
    """The first element matching the CSS ``selector``; ParseError naming it when none does."""
    found = scope.select_one(selector)
    if found is None:
        raise ParseError(f"no {selector} element", document=document)
    return found


def heading(scope: Tag, label: str) -> Tag | None:
    """The innermost element whose own text is exactly ``label`` (e.g. ``"Prime Sponsor"``)."""
    for string in scope.find_all(string=True):
        if isinstance(string, NavigableString) and _is_text(string) and collapse(string) == label:
            parent = string.parent
            if isinstance(parent, Tag):
                return parent
    return None


def next_element_sibling(element: Tag) -> Tag | None:
    """The next sibling that is an element (white space and comments skipped)."""
    sibling = element.find_next_sibling()
    return sibling if isinstance(sibling, Tag) else None


def attribute(element: Tag, name: str) -> str:
    """An attribute's value as one string ("" when absent; multi-valued ones space-joined)."""
    value = element.get(name)
    if value is None:
        return ""
    return " ".join(value) if isinstance(value, list) else str(value)
