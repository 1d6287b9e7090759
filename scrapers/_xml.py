"""Hardened XML reading for untrusted upstream documents (the state sources' shared helper).

:func:`xml_root` parses with lxml and refuses what a hostile or broken server could use
against us: DOCTYPE and entity declarations (billion laughs, external entities) are refused
before parsing, entities are never resolved, nothing is fetched from the network, and lxml's
``huge_tree`` limits stay on. Every failure is a one-line :class:`~tracker.errors.ParseError`
naming the document.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from lxml import etree

from tracker.errors import ParseError

#: lxml elements (lxml ships no type information).
Element = Any

# A DOCTYPE may hide behind a BOM, an XML declaration, comments or processing instructions.
# Only the prolog is looked at (a lazy ``.*?`` over the whole body scanned every document to
# its end); a DOCTYPE behind a longer prolog is still caught after parsing (docinfo).
_DOCTYPE = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s|<\?[^>]*\?>|<!--[^>]*-->)*<!(?:DOCTYPE|ENTITY)")
_PROLOG_BYTES = 4096
_PARSERS = threading.local()
_DECLARED_ENCODING = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._-]+)"
)
_WHITESPACE = re.compile(r"\s+")


def xml_root(
    body: bytes, *, document: str, fallback_encoding: str | None = None,
    data_only: bool = False,
) -> Element:
    """The root element of ``body``; ParseError for DTDs, malformed or empty documents.

    ``data_only`` is for documents that are records, never mixed text and markup: the white
    space between elements is dropped while parsing (a sixth less of the parse's time on
    BILLSTATUS), so an element holding only white space reads as empty (``text`` None).

    ``fallback_encoding`` is for publishers known to write some files in a legacy encoding
    while declaring (or implying) UTF-8: a body that is not valid UTF-8 and declares no
    other encoding is read in that encoding instead of being refused.
    """
    if _DOCTYPE.match(body[:_PROLOG_BYTES]):
        raise ParseError("DOCTYPE and entity declarations are refused", document=document)
    if fallback_encoding is not None:
        body = _as_utf8(body, fallback=fallback_encoding)
    try:
        root = etree.fromstring(body, _parser(data_only=data_only))
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not well-formed XML: {exc}", document=document) from None
    if root is None:
        raise ParseError("empty document", document=document)
    if root.getroottree().docinfo.doctype:
        raise ParseError("DOCTYPE and entity declarations are refused", document=document)
    return root


def _parser(*, data_only: bool) -> Any:
    """One hardened XML parser of each kind per thread."""
    return _per_thread("data_parser" if data_only else "parser", lambda: etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=data_only,
    ))


def html_parser() -> Any:
    """lxml's plain HTML parser (no ``lxml.html`` element classes), one per thread, for
    reading the text of HTML fragments embedded in XML documents."""
    return _per_thread("html_parser", lambda: etree.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True
    ))


def _per_thread(name: str, build: Callable[[], Any]) -> Any:
    """The calling thread's parser called ``name``: building one per document costs more
    than parsing a small document, and lxml parsers must not be shared between threads."""
    parser = getattr(_PARSERS, name, None)
    if parser is None:
        parser = build()
        setattr(_PARSERS, name, parser)
    return parser


def _as_utf8(body: bytes, *, fallback: str) -> bytes:
    declared = _DECLARED_ENCODING.match(body)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return body  # lxml reads the declared encoding itself
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # Bytes the fallback leaves undefined become U+FFFD rather than failing the bill.
        return body.decode(fallback, errors="replace").encode("utf-8")
    return body


def collapse(text: str | None) -> str:
    """``text`` with runs of white space made one space, ends stripped ("" for None)."""
    return _WHITESPACE.sub(" ", text).strip() if text else ""


def child_text(element: Element, path: str) -> str:
    """The collapsed text at ``path`` under ``element`` ("" when absent or empty)."""
    return collapse(element.findtext(path))


def shown(text: str, *, limit: int = 80) -> str:
    """Upstream text fit for a one-line error message: quoted, control characters escaped,
    cut at ``limit`` characters."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(cut)
