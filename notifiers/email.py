"""Digest + Rendered -> one message's bytes, ready for the outbox.

The message is written here directly, not through ``email.message.EmailMessage``: its shape is
always the same, and the email package's header objects (parsed when set, parsed and folded
again when written) cost about 1.5 ms per message, a quarter of a digest run. What is written
(tests parse it back with the modern email policy, as a receiving client does):

* CRLF line ends, no line over RFC 5322's hard limit of 998 characters;
* ``multipart/alternative``: ``text/plain`` first, then ``text/html`` (clients show the last
  part they can read), both UTF-8, ``7bit`` or ``8bit`` as written, ``base64`` when a line
  would be too long for SMTP;
* ``From``: the catalog's sender name and ``TRACKER_MAIL_FROM``; ``To``: the subscriber's name
  (made header-safe) and address; ``Date``; ``Content-Language``;
* ``Message-ID``: ``<{sha256(digest_key)[:32]}@{domain of TRACKER_MAIL_FROM}>``, the same on
  every retry and every re-render, so a message delivered twice is one message to the
  receiving client and to our logs;
* ``Subject``: catalog text around bill identifiers, one line with no control or bidi
  characters, at most 180 characters; bill titles never go into a header;
* non-ASCII text in ``Subject`` and display names as one RFC 2047 ``B`` encoded word of UTF-8,
  on one line, as the email package wrote them before (folding them at 78 characters altered
  non-ASCII subjects on a round trip: a space doubled at the fold, or encoded words run
  together, python/cpython#144156; measured then: 401 of 3000 mixed Korean/Spanish subjects
  changed when folded at 78, none on one line); also ASCII text that holds ``=?``, so that a
  name is never decoded into something else by the receiver; ASCII display names quoted
  when they hold specials (``formataddr``);
* ``List-Unsubscribe: <https://…/unsubscribe/TOKEN>, <mailto:…?subject=unsubscribe-TOKEN>``
  and, when that URL is HTTPS, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
  (RFC 8058; the DKIM signature covering both is the relay's job);
* ``Auto-Submitted: auto-generated`` (RFC 3834) and ``X-Auto-Response-Suppress: All``, so
  vacation responders stay quiet.

Every header value is checked to be one line of printable characters before it is written;
a value that is not (a misconfigured URL or address) raises ConfigError naming the digest.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, formataddr

from notifiers.links import DigestLinks
from notifiers.render import Rendered
from notifiers.text import header_text
from tracker.digest import Digest
from tracker.errors import ConfigError

SUBJECT_LIMIT = 180
NAME_LIMIT = 80
#: RFC 5322's limit of a line, CRLF not counted.
LINE_LIMIT = 998
#: UTF-8 bytes per encoded word: 45 bytes are 60 base64 characters, 72 with ``=?utf-8?b?…?=``,
#: under RFC 2047's 75.
_WORD_BYTES = 45
_CRLF = b"\r\n"


@dataclass(frozen=True, slots=True)
class BuiltMessage:
    """A message as queued and sent: its bytes and the header values the outbox records."""

    message_id: str
    subject: str  # as the reader sees it (decoded)
    raw: bytes


def mail_domain(mail_from: str) -> str:
    """The domain of ``TRACKER_MAIL_FROM`` (``tracker@example.org`` -> ``example.org``)."""
    domain = mail_from.rpartition("@")[2].strip().strip(">").lower()
    if not domain:
        raise ConfigError(f"TRACKER_MAIL_FROM={mail_from!r}: has no domain after @")
    return domain


def message_id(digest_key: str, *, mail_from: str) -> str:
    """The stable Message-ID of the digest ``digest_key``."""
    digest = hashlib.sha256(digest_key.encode()).hexdigest()[:32]
    return f"<{digest}@{mail_domain(mail_from)}>"


# --- headers -----------------------------------------------------------------------------------


def encoded_word(text: str) -> str:
    """``text`` as one RFC 2047 ``B`` encoded word of UTF-8."""
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode('ascii')}?="


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 ``B`` encoded words of UTF-8, each under 75 characters, cut
    between characters (never inside one's bytes)."""
    chunks: list[str] = []
    start, size = 0, 0
    for position, char in enumerate(text):
        width = len(char.encode())
        if size + width > _WORD_BYTES:
            chunks.append(text[start:position])
            start, size = position, 0
        size += width
    chunks.append(text[start:])
    return [encoded_word(chunk) for chunk in chunks if chunk]


def _needs_encoding(text: str) -> bool:
    return not text.isascii() or "=?" in text


def unstructured(name: str, text: str) -> str:
    """The value of header ``name`` for free text: as it is when plain ASCII, else one
    encoded word when its line fits (as the email package writes it), else encoded words
    under 75 characters folded one a line (a fold between encoded words unfolds to
    nothing)."""
    if not _needs_encoding(text):
        return text
    word = encoded_word(text)
    if len(name) + 2 + len(word) <= LINE_LIMIT:
        return word
    return "\r\n ".join(encoded_words(text))


def mailbox(name: str, address: str) -> str:
    """``Name <address>`` with the name quoted or encoded as needed; the bare address when
    there is no name. An encoded name is one encoded word (``NAME_LIMIT`` keeps it within a
    line): parsers such as Python's own put a space between adjacent encoded words of a
    display name, where RFC 2047 says there is none."""
    if not name:
        return address
    if not _needs_encoding(name):
        return formataddr((name, address))
    return f"{encoded_word(name)} <{address}>"


def _line(name: str, value: str) -> bytes:
    """One header field; ConfigError unless each of its (folded) lines is printable ASCII
    within the line limit."""
    field = f"{name}: {value}"
    for line in field.split("\r\n "):
        if len(line) > LINE_LIMIT or not line.isascii() or not line.isprintable():
            raise ConfigError(f"header {name}: {value[:80]!r} is not one printable ASCII line "
                              f"of at most {LINE_LIMIT} characters")
    return field.encode("ascii") + _CRLF


def _plain_address(digest: Digest) -> str:
    address = digest.recipient.email.strip()
    if (not address or "@" not in address or not address.isascii()
            or any(ord(c) < 33 or c in "<>,\x7f" for c in address)):
        raise ConfigError(f"digest {digest.digest_key}: recipient address {address!r} is not "
                          "a single plain address")
    return address


def _list_unsubscribe(links: DigestLinks) -> list[tuple[str, str]]:
    both = f"<{links.unsubscribe}>, <{links.unsubscribe_mailto}>"
    if len("List-Unsubscribe: ") + len(both) > LINE_LIMIT:
        # The fold unfolds to the same value: "<a>, <b>".
        both = f"<{links.unsubscribe}>,\r\n <{links.unsubscribe_mailto}>"
    fields = [("List-Unsubscribe", both)]
    if links.one_click:
        fields.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return fields


# --- bodies ------------------------------------------------------------------------------------


def _part(subtype: str, text: str) -> bytes:
    """One ``text/*`` part: headers, blank line, body with CRLF line ends."""
    data = text.encode("utf-8")
    lines = data.splitlines()
    if max(map(len, lines), default=0) <= LINE_LIMIT:
        encoding = "7bit" if data.isascii() else "8bit"
        body = _CRLF.join(lines) + _CRLF
    else:
        # A line too long for SMTP: base64 of the text in canonical (CRLF) form.
        encoding = "base64"
        body = base64.encodebytes(_CRLF.join(lines) + _CRLF).replace(b"\n", _CRLF)
    head = (f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n")
    return head.encode("ascii") + body


def _boundary(parts: list[bytes]) -> str:
    """A random boundary that occurs in no part (RFC 2046: it must not)."""
    while True:
        boundary = f"=_{secrets.token_hex(16)}"
        if not any(boundary.encode("ascii") in part for part in parts):
            return boundary


def _multipart(parts: list[bytes]) -> tuple[str, bytes]:
    """The Content-Type value and the body of a ``multipart/alternative`` of ``parts``."""
    boundary = _boundary(parts)
    delimiter = f"--{boundary}".encode("ascii")
    body = b"".join(delimiter + _CRLF + part + _CRLF for part in parts)
    return (f'multipart/alternative; boundary="{boundary}"',
            _CRLF + body + delimiter + b"--" + _CRLF)


# --- the message -------------------------------------------------------------------------------


def build_message(
    digest: Digest,
    rendered: Rendered,
    *,
    mail_from: str,
    links: DigestLinks | None,
    now: datetime,
) -> BuiltMessage:
    """The message for ``digest``; see the module docstring. ``now`` becomes its Date.
    Raises ConfigError (naming the digest) when an address or header value is unusable."""
    address = _plain_address(digest)
    subject = header_text(rendered.subject, limit=SUBJECT_LIMIT)
    identity = message_id(digest.digest_key, mail_from=mail_from)
    content_type, body = _multipart([_part("plain", rendered.text),
                                     _part("html", rendered.html)])
    fields = [
        ("From", mailbox(header_text(rendered.from_name, limit=NAME_LIMIT), mail_from)),
        ("To", mailbox(header_text(digest.recipient.name, limit=NAME_LIMIT), address)),
        ("Subject", unstructured("Subject", subject)),
        ("Date", format_datetime(now.astimezone(UTC))),
        ("Message-ID", identity),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        *(_list_unsubscribe(links) if links is not None else ()),
        ("MIME-Version", "1.0"),
        ("Content-Type", content_type),
        ("Content-Language", rendered.language.value),
    ]
    try:
        head = b"".join(_line(name, value) for name, value in fields)
    except ConfigError as exc:
        raise ConfigError(f"digest {digest.digest_key}: {exc}") from None
    return BuiltMessage(message_id=identity, subject=subject, raw=head + body)
