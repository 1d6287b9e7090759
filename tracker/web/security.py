"""The web app's security rules, in one place.

* **CSRF**: every session holds a random token (:func:`csrf_token`); every form carries it in
  a hidden ``csrf_token`` field and :func:`check_csrf` refuses (400) any POST without the
  session's token, compared in constant time. The one exemption is the RFC 8058 one-click
  unsubscribe (:func:`csrf_exempt`): a mail provider posts it with no cookie at all, and its
  authority is the signed token in its URL, not the visitor's session, so a forged cross-site
  request gains nothing.
* **Cookies**: the session cookie is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when
  ``TRACKER_PUBLIC_URL`` is https (:func:`cookie_settings`).
* **Redirects**: a ``next`` target is followed only when it is a same-site relative path
  (:func:`safe_next`); ``//evil.example``, ``/\\evil.example``, ``https://...`` and anything
  with control characters fall back to a fixed page.
* **Headers** on every response (:func:`security_headers`): a Content-Security-Policy that
  allows no script at all (the pages have none) and styles and images only from the app
  itself, ``frame-ancestors 'none'``, ``nosniff``, ``Referrer-Policy: same-origin`` (links to
  legislatures' sites carry no referrer; token pages send none at all), and HSTS when the
  public URL is https. Pages for one person (account, admin, token links) are ``no-store``.
* **Logs**: link tokens never reach a log line (:class:`RedactTokens` on the request log).
* **Clients** are counted for rate limits by an HMAC of their address
  (:func:`client_fingerprint`), so no IP address is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from werkzeug.exceptions import BadRequest

CSRF_FIELD = "csrf_token"
_SESSION_KEY = "csrf"
_EXEMPT = "_tracker_csrf_exempt"
_MAX_NEXT = 2000

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
))

F = TypeVar("F", bound=Callable[..., Any])


class CsrfRefused(BadRequest):
    """A form came without the session's CSRF token (or with another one)."""

    description = "the form's security token is missing or expired"


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


def rotate_csrf(session: MutableMapping[str, Any]) -> str:
    """A new token (on sign-in and sign-out, so a token seen before does not carry over)."""
    session.pop(_SESSION_KEY, None)
    return csrf_token(session)


def check_csrf(session: Mapping[str, Any], form: Mapping[str, str]) -> None:
    """Refuse the request unless the form's token is the session's."""
    expected = session.get(_SESSION_KEY)
    given = form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not given or not hmac.compare_digest(
        given.encode(), expected.encode()
    ):
        raise CsrfRefused()


def csrf_exempt(view: F) -> F:
    """Mark a view whose POST must work without a session (RFC 8058 one-click)."""
    setattr(view, _EXEMPT, True)
    return view


def is_csrf_exempt(view: Callable[..., Any] | None) -> bool:
    return bool(getattr(view, _EXEMPT, False))


def safe_next(target: object, *, default: str = "/") -> str:
    """``target`` when it is a relative path on this site, else ``default``."""
    if not isinstance(target, str) or not target or len(target) > _MAX_NEXT:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(unicodedata.category(c)[0] in ("C", "Z") for c in target):
        return default  # controls, spaces, invisible characters: browsers may strip them
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def cookie_settings(public_url: str) -> dict[str, Any]:
    """Flask settings for the session cookie."""
    return {
        "SESSION_COOKIE_NAME": "tracker_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
    }


def security_headers(*, https: bool, no_store: bool, token_page: bool) -> dict[str, str]:
    """The headers every response gets (see the module docstring)."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer" if token_page else "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if no_store or token_page:
        headers["Cache-Control"] = "no-store"
    return headers


def client_fingerprint(address: str | None, *, key: bytes) -> str:
    """An HMAC of the client's address: counts requests per client without storing it."""
    digest = hmac.new(key, b"client|" + (address or "unknown").encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


_TOKEN_PATH = re.compile(r"(/(?:unsubscribe|manage|sign-in)/)[^\s/?\"']+")


def redact_tokens(text: str) -> str:
    """``GET /unsubscribe/abc.def`` -> ``GET /unsubscribe/<token>``."""
    return _TOKEN_PATH.sub(r"\1<token>", text)


class RedactTokens(logging.Filter):
    """Rewrites log records so the link tokens in request paths never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
