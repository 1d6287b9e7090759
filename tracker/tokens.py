"""Signed tokens for the links in every digest: unsubscribe (one click) and manage.

A token names what it acts on, never the subscriber's address::

    payload = "1.<purpose>.<scope>.<id>.<issued YYYYMMDD>"     e.g. "1.u.s.42.20261201"
    token   = b64url(payload) "." b64url(HMAC-SHA256(key, "tracker-token|" + payload)[:16])

* purpose: ``u`` unsubscribe, ``m`` manage; scope: ``s`` one subscription, ``r`` a subscriber
  (recipient: every subscription of theirs).
* The MAC is HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows truncation to half the
  hash length); verification is constant-time (:func:`hmac.compare_digest`).
* Tokens do not expire by default: RFC 8058 one-click unsubscribe must keep working for mail
  read months later. ``issued`` lets a deployment refuse old ones (``max_age``) and rotating
  ``TRACKER_SECRET_KEY`` invalidates every token at once.

The key (:func:`signing_key`): ``TRACKER_SECRET_KEY``, required whenever ``TRACKER_SMTP_HOST`` is
set. In the embedded default (no SMTP: digests are written as ``.eml`` files) a random key is
generated once and kept beside the outbox in ``<TRACKER_OUTBOX_DIR>/.secret`` (mode 0600), so a
fresh machine works with no configuration and its links stay valid across runs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from tracker.errors import ConfigError, TrackerError
from tracker.settings import MailSettings

VERSION = "1"
MAC_BYTES = 16
MIN_KEY_LENGTH = 16
SECRET_FILE = ".secret"  # noqa: S105 (a file name, not a secret)
_DOMAIN = b"tracker-token|"
_KEY_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class InvalidToken(TrackerError):
    """A token is malformed, tampered with, signed with another key, or for another purpose."""


class Purpose(StrEnum):
    UNSUBSCRIBE = "u"
    MANAGE = "m"


class Scope(StrEnum):
    SUBSCRIPTION = "s"
    SUBSCRIBER = "r"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says."""

    purpose: Purpose
    scope: Scope
    target_id: int
    issued: date


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    data = base64.b64decode(padded, altchars=b"-_", validate=True)
    if _b64encode(data) != text:
        # The last character's unused bits must be zero: one token has one spelling.
        raise ValueError("not canonical base64")
    return data


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()[:MAC_BYTES]


def sign(*, key: bytes, purpose: Purpose, scope: Scope, target_id: int, issued: date) -> str:
    """A URL-safe token (``[A-Za-z0-9_-]`` and one ``.``) for ``purpose`` on ``scope``/``id``."""
    if target_id < 0:
        raise ValueError(f"token target id must not be negative, not {target_id}")
    payload = f"{VERSION}.{purpose.value}.{scope.value}.{target_id}.{issued:%Y%m%d}".encode()
    return f"{_b64encode(payload)}.{_b64encode(_mac(key, payload))}"


def verify(
    token: str,
    *,
    key: bytes,
    purpose: Purpose,
    today: date | None = None,
    max_age: timedelta | None = None,
) -> TokenClaims:
    """The claims of a genuine ``token`` for ``purpose``; :class:`InvalidToken` otherwise.

    ``max_age`` (with ``today``) refuses tokens issued longer ago than that.
    """
    encoded_payload, dot, encoded_mac = token.strip().partition(".")
    if not dot or not encoded_payload or not encoded_mac:
        raise InvalidToken("link token is malformed")
    try:
        payload, mac = _b64decode(encoded_payload), _b64decode(encoded_mac)
    except (binascii.Error, ValueError):
        raise InvalidToken("link token is malformed") from None
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise InvalidToken("link token is not genuine (altered, or signed with another key)")
    claims = _claims(payload)
    if claims.purpose is not purpose:
        raise InvalidToken(f"link token is for another purpose ({claims.purpose.name.lower()})")
    if max_age is not None:
        if today is None:
            raise ValueError("verify(max_age=...) needs today=")
        if today - claims.issued > max_age:
            raise InvalidToken(f"link token expired (issued {claims.issued.isoformat()})")
    return claims


def _claims(payload: bytes) -> TokenClaims:
    # The MAC matched, so this was written by sign(); a failure here means a format change.
    try:
        version, purpose, scope, target, issued = payload.decode("ascii").split(".")
        if version != VERSION:
            raise ValueError(version)
        return TokenClaims(
            purpose=Purpose(purpose),
            scope=Scope(scope),
            target_id=int(target),
            issued=date(int(issued[:4]), int(issued[4:6]), int(issued[6:8])),
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidToken("link token has an unknown format version") from None


# --- the key ------------------------------------------------------------------------------------


def signing_key(mail: MailSettings) -> bytes:
    """The key that signs link tokens; see the module docstring.

    Raises ConfigError when SMTP is configured without ``TRACKER_SECRET_KEY``, when the key is
    too short, or when the generated key file cannot be used.
    """
    if mail.secret_key:
        if len(mail.secret_key) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"TRACKER_SECRET_KEY is too short: use at least {MIN_KEY_LENGTH} characters "
                f"({_KEY_HINT})"
            )
        return mail.secret_key.encode()
    if mail.smtp_host:
        raise ConfigError(
            "TRACKER_SECRET_KEY is not set: it signs the unsubscribe links of every digest "
            f"sent through TRACKER_SMTP_HOST={mail.smtp_host} ({_KEY_HINT})"
        )
    return _file_key(mail.outbox_dir / SECRET_FILE)


def _file_key(path: Path) -> bytes:
    """The key in ``path``, created with a random value (mode 0600) on first use."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once agree on one key (the loser reads it).
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_key_file(path)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(32) + "\n")
        return _read_key_file(path)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot keep the link-signing key there: {exc.strerror}"
        ) from None


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: the link-signing key is readable by others; chmod 600 {path}")
    try:
        key = path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError:
        key = ""
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(f"{path}: the link-signing key is not usable (empty, short or not "
                          "text); delete the file to generate a new one (old links stop working)")
    return key.encode()
