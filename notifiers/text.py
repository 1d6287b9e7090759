"""Making upstream text safe to show: in a body, in a header, as a link. Pure functions.

Bill titles and action texts come from legislatures' sites and are untrusted. Escaping for
HTML is the template engine's job (autoescape); what is done here applies to every output:

* control characters (Unicode ``Cc``: CR, LF, TAB, NUL, ESC ...) and line or paragraph
  separators become one space, so no upstream text can start a new header line or forge a
  line of the text body;
* invisible format characters (``Cf``: the bidi overrides and isolates such as U+202E, zero
  width spaces and joiners, the BOM, soft hyphens) are dropped: they can reverse or hide the
  visible text (a "Trojan Source" trick) and carry no meaning in a bill title;
* whitespace runs collapse to one space.

Links are kept only when they are plain ``http``/``https`` URLs, so a ``javascript:`` or
``data:`` URL from upstream never becomes a clickable link.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

ELLIPSIS = "…"
_WHITESPACE = re.compile(r"\s+")


def _clean_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category in ("Cc", "Zl", "Zp"):
        return " "
    return char


def display_text(value: str) -> str:
    """``value`` on one line, without control or invisible format characters."""
    # Printable text (most of it) holds none of Cc, Cf, Zl, Zp: only the rest is looked at
    # character by character, which cost a fifth of rendering a digest.
    cleaned = value if value.isprintable() else "".join(_clean_char(char) for char in value)
    return _WHITESPACE.sub(" ", cleaned).strip()


def shorten(value: str, limit: int) -> str:
    """``value`` cut to at most ``limit`` characters, at a word boundary when one is near."""
    if len(value) <= limit:
        return value
    cut = value[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + ELLIPSIS


def header_text(value: str, *, limit: int) -> str:
    """Text fit for a header value: one clean line of at most ``limit`` characters."""
    return shorten(display_text(value), limit)


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL with no whitespace or controls, else None."""
    if not url:
        return None
    url = url.strip()
    # Printable without a space holds none of these: the usual URL is not looked at by char.
    plain = url.isprintable() and " " not in url
    if not plain and any(unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp") for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
