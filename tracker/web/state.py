"""What every request of the web app shares, built once by ``create_app``, and who is asking.

:class:`WebState` holds the settings, the repository, the keys and the clock, injected into
the Flask app (``app.extensions["tracker"]``) so that routes never read the environment.
The keys are all derived from the link-signing key of the digests
(:func:`tracker.tokens.signing_key`: ``TRACKER_SECRET_KEY``), each for one purpose, so a session
cookie's signature can never pass for a sign-in link's or an unsubscribe token's:

* ``link_key``: the digests' key itself; verifies ``/unsubscribe/<token>`` and ``/manage/<token>``;
* ``session_key``: signs the session cookie (Flask's ``SECRET_KEY``);
* ``sign_in_key``: signs emailed sign-in links;
* ``client_key``: the HMAC that counts clients for rate limits without storing addresses.

Who is asking (:func:`visitor`): the session names the signed-in address and how it signed in
(``link``: an emailed sign-in link; ``manage``: a digest's manage link, which may change that
subscriber's subscriptions and preferences but never opens ``/admin``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from flask import current_app, session

from notifiers.transport import Transport
from tracker.errors import ConfigError, InvalidSubscription
from tracker.settings import Settings
from tracker.source import SourceFactory
from tracker.storage import web_repo
from tracker.storage.repository import Repository
from tracker.subscriptions import parse_email

EXTENSION = "tracker"
AUTH_LINK, AUTH_MANAGE = "link", "manage"


def derive_key(key: bytes, purpose: str) -> bytes:
    """A key for one ``purpose``, from the link-signing key (HMAC-SHA256 as a KDF)."""
    return hmac.new(key, f"tracker-web|{purpose}".encode(), hashlib.sha256).digest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def staff_from_env(environ: Mapping[str, str]) -> frozenset[str]:
    """``TRACKER_STAFF``: comma-separated staff addresses (staff of every affiliate). An
    address that cannot be read is a ConfigError, never silently skipped."""
    text = environ.get("TRACKER_STAFF", "")
    try:
        return frozenset(parse_email(part) for part in text.split(",") if part.strip())
    except InvalidSubscription as exc:
        raise ConfigError(f"TRACKER_STAFF: {exc}") from None


@dataclass(frozen=True, slots=True)
class WebState:
    settings: Settings
    repo: Repository
    registry: Mapping[str, SourceFactory]
    link_key: bytes
    session_key: bytes
    sign_in_key: bytes
    client_key: bytes
    staff: frozenset[str]
    clock: Callable[[], datetime]
    transport: Callable[[], Transport]

    @property
    def https(self) -> bool:
        return self.settings.mail.public_url.startswith("https://")

    @property
    def topic_ids(self) -> frozenset[str]:
        return frozenset(topic.id for topic in self.settings.topics)


def web_state() -> WebState:
    """The state of the running app (inside a request or app context)."""
    return cast(WebState, current_app.extensions[EXTENSION])


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is asking: an address when signed in, how, and whether as staff (of which
    affiliate; ``""`` means every affiliate)."""

    email: str | None = None
    auth: str | None = None
    staff_affiliate: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.email is not None

    @property
    def staff(self) -> bool:
        return self.staff_affiliate is not None


def _session_email() -> str | None:
    email = session.get("email")
    if not isinstance(email, str):
        return None
    try:
        return parse_email(email)
    except InvalidSubscription:
        return None


def visitor() -> Visitor:
    """The visitor of this request (reads the staff table for a signed-in address)."""
    email = _session_email()
    if email is None:
        return Visitor()
    auth = session.get("auth")
    auth = auth if auth in (AUTH_LINK, AUTH_MANAGE) else None
    if auth != AUTH_LINK:
        return Visitor(email=email, auth=auth)
    state = web_state()
    if email in state.staff:
        return Visitor(email=email, auth=auth, staff_affiliate="")
    with state.repo.read() as db:
        member = web_repo.staff_member(db, email)
    return Visitor(email=email, auth=auth,
                   staff_affiliate=member.affiliate if member is not None else None)


def sign_in(email: str, *, auth: str, now: datetime) -> None:
    """Start a fresh signed-in session (only the language choice is kept: no fixation)."""
    language: Any = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session["email"], session["auth"], session["since"] = email, auth, now.isoformat()
    session.permanent = True


def sign_out() -> None:
    language: Any = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
