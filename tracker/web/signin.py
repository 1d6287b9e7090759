"""Sign-in by a one-time emailed link: signed, expiring, rate limited.

No passwords: a visitor gives an address, and a link is mailed to it. Holding the mailbox is
the proof. A link is:

* **signed**: ``{TRACKER_PUBLIC_URL}/sign-in/<token>`` where the token is the link's id and a
  random nonce, signed with a key of its own (itsdangerous, HMAC-SHA1 over the payload with
  a per-purpose salt); only a SHA-256 hash of the nonce is stored;
* **one-time**: using it sets ``used_at`` with ``UPDATE ... WHERE used_at IS NULL``, so two
  requests racing with one link sign in once;
* **expiring**: :data:`LINK_TTL` after it was asked for, by the database's record (so the
  injected clock decides, and a rewound client clock cannot extend it);
* **rate limited**: at most :data:`PER_ADDRESS` links per address and :data:`PER_CLIENT` per
  client (an HMAC of its IP address) in a window, counted in the database so every process
  of the app agrees. Asking for more gives :class:`TooManyLinks` with the wait.

Opening the link shows a page with a "Sign in" button; only its POST (with the CSRF token)
uses the link. Mail scanners that fetch every link in a message therefore cannot burn it.
The link is built from ``TRACKER_PUBLIC_URL``, never from the request's Host header, so a
forged Host cannot make the mail point elsewhere. The message is plain text in the visitor's
language, sent at once through the digests' transport (SMTP, or ``.eml`` files).
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from itsdangerous import BadSignature, URLSafeSerializer

from notifiers.catalog import Catalog
from notifiers.email import mail_domain
from notifiers.transport import Outgoing, Transport
from tracker.errors import TrackerError
from tracker.storage import web_repo
from tracker.storage.repository import Repository

LINK_TTL = timedelta(minutes=30)
PER_ADDRESS = (3, timedelta(minutes=15))
PER_CLIENT = (10, timedelta(hours=1))
KEEP = timedelta(days=2)  # rows older than this are purged (every window is shorter)
_SALT = "tracker-sign-in"


class TooManyLinks(TrackerError):
    """Too many links were asked for; ``retry_after`` says when the window frees up."""

    def __init__(self, message: str, *, retry_after: timedelta) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadLink(TrackerError):
    """A sign-in link cannot be used; ``problem`` is ``invalid``, ``expired`` or ``used``."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"sign-in link {problem}")
        self.problem = problem


@dataclass(frozen=True, slots=True)
class IssuedLink:
    link_id: int
    url: str


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What a genuine link says: its id, nonce, and where to go once signed in (a path the
    caller still checks with ``safe_next``)."""

    link_id: int
    nonce: str
    next_path: str


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _serializer(key: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt=_SALT)


def issue_link(
    repo: Repository, *, email: str, client: str, key: bytes, public_url: str, next_path: str,
    now: datetime,
) -> IssuedLink:
    """Record a new link for ``email`` and return it; TooManyLinks past a rate limit."""
    nonce = secrets.token_urlsafe(24)
    with repo.write() as db:
        web_repo.purge_sign_in_links(db, before=now - KEEP)
        for limit, window, count in (
            (*PER_ADDRESS, web_repo.count_sign_in_links(db, since=now - PER_ADDRESS[1],
                                                        email=email)),
            (*PER_CLIENT, web_repo.count_sign_in_links(db, since=now - PER_CLIENT[1],
                                                       client=client)),
        ):
            if count >= limit:
                raise TooManyLinks(f"{count} sign-in links asked for in {window}",
                                   retry_after=window)
        link_id = web_repo.record_sign_in_link(db, email=email, nonce_hash=_hash(nonce),
                                               client=client, now=now)
    token = _serializer(key).dumps({"id": link_id, "n": nonce, "x": next_path})
    return IssuedLink(link_id=link_id, url=f"{public_url.rstrip('/')}/sign-in/{token}")


def read_token(token: str, *, key: bytes) -> LinkClaims:
    """The claims of a genuinely signed token; BadLink("invalid") otherwise."""
    try:
        data = _serializer(key).loads(token)
    except BadSignature:
        raise BadLink("invalid") from None
    if not isinstance(data, dict):
        raise BadLink("invalid")
    link_id, nonce, next_path = data.get("id"), data.get("n"), data.get("x", "/")
    if not isinstance(link_id, int) or not isinstance(nonce, str) or not isinstance(
        next_path, str
    ):
        raise BadLink("invalid")
    return LinkClaims(link_id=link_id, nonce=nonce, next_path=next_path)


def check_link(repo: Repository, claims: LinkClaims, *, now: datetime) -> str:
    """The address a fresh, unused link signs in; BadLink otherwise."""
    with repo.read() as db:
        link = web_repo.sign_in_link(db, claims.link_id)
    if link is None or not hmac.compare_digest(link.nonce_hash, _hash(claims.nonce)):
        raise BadLink("invalid")
    if link.used_at is not None:
        raise BadLink("used")
    if now - link.requested_at > LINK_TTL:
        raise BadLink("expired")
    return link.email


def use_link(repo: Repository, claims: LinkClaims, *, now: datetime) -> str:
    """Check the link and mark it used, once; returns the address it signs in."""
    email = check_link(repo, claims, now=now)
    with repo.write() as db:
        if not web_repo.use_sign_in_link(db, claims.link_id, now=now):
            raise BadLink("used")
    return email


def sign_in_message(
    *, catalog: Catalog, recipient: str, url: str, mail_from: str, site: str, now: datetime
) -> EmailMessage:
    """The plain-text mail carrying the link, in the catalog's language."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = formataddr((catalog.t("mail.from_name"), mail_from))
    message["To"] = recipient
    message["Subject"] = catalog.t("web.signin.mail_subject", site=site)
    message["Date"] = format_datetime(now, usegmt=True)
    message["Message-ID"] = make_msgid(domain=mail_domain(mail_from))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    minutes = int(LINK_TTL.total_seconds() // 60)
    message.set_content(catalog.t("web.signin.mail_body", link=url, minutes=minutes, site=site),
                        subtype="plain", charset="utf-8")
    message["Content-Language"] = catalog.language.value
    return message


def send_now(
    transport: Transport, message: EmailMessage, *, sender: str, recipient: str, link_id: int,
    now: datetime,
) -> str:
    """Send ``message`` at once; raises notifiers.transport.DeliveryError when it cannot go."""
    outgoing = Outgoing(
        digest_key=f"sign-in-{link_id}", message_id=str(message["Message-ID"]), sender=sender,
        recipient=recipient, raw=message.as_bytes(), created_at=now,
    )
    with transport.connect() as connection:
        return connection.send(outgoing)
