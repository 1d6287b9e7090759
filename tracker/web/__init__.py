"""The web app for analysts and affiliates: ``create_app(settings)`` -> a Flask app.

Routes by area: :mod:`~tracker.web.pages` (dashboard, bills, a bill, changes, topics, the
language switch), :mod:`~tracker.web.exports` (CSV), :mod:`~tracker.web.api` (JSON),
:mod:`~tracker.web.account` (sign-in by emailed link, follow, preferences, the digests'
manage links), :mod:`~tracker.web.unsubscribe` (RFC 8058 one-click) and
:mod:`~tracker.web.admin` (staff). The rules of :mod:`~tracker.web.security` apply to all.

Templates (``tracker/web/templates/*.html.j2``) are autoescaped whatever their extension,
with ``StrictUndefined``; they hold no logic (:mod:`~tracker.web.present` decides). Pages speak
English, Korean and Spanish with the digests' catalogs (:mod:`~tracker.web.i18n`).

Configuration is the tracker's (:func:`tracker.wiring.settings_from_env`), plus:

* ``TRACKER_SECRET_KEY``: required outside debug and testing (refused otherwise, with one
  line); every key of the app is derived from it (:mod:`~tracker.web.state`);
* ``TRACKER_PUBLIC_URL``: the address links in mail point to; https makes cookies ``Secure``;
* ``TRACKER_STAFF``: comma-separated staff addresses;
* ``TRACKER_TRUSTED_PROXIES``: how many reverse proxies stand in front (their
  ``X-Forwarded-For``/``-Proto`` are then believed), default 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app, g, jsonify, request, session
from flask.typing import ResponseReturnValue
from jinja2 import StrictUndefined
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers.response import Response

from notifiers.service import transport_for
from notifiers.transport import Transport
from scrapers import REGISTRY
from tracker.errors import ConfigError
from tracker.settings import Settings
from tracker.tokens import signing_key
from tracker.web import account, admin, api, exports, pages, unsubscribe
from tracker.web.common import catalog, render
from tracker.web.filters import BadFilter
from tracker.web.security import (
    CsrfRefused,
    RedactTokens,
    check_csrf,
    cookie_settings,
    is_csrf_exempt,
    redact_tokens,
    security_headers,
)
from tracker.web.state import (
    EXTENSION,
    WebState,
    derive_key,
    staff_from_env,
    utcnow,
    web_state,
)
from tracker.wiring import open_repository, settings_from_env

__all__ = ["create_app"]

log = logging.getLogger(__name__)
MAX_FORM_BYTES = 64 * 1024
SESSION_LIFETIME = timedelta(days=14)
#: Paths of pages for one person, or with a token in them: never cached.
PRIVATE_PREFIXES = ("/account", "/admin", "/sign-in", "/manage/", "/unsubscribe/", "/follow",
                    "/unfollow")
TOKEN_PREFIXES = ("/sign-in/", "/manage/", "/unsubscribe/")
_KEY_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class _TrackerFlask(Flask):
    def select_jinja_autoescape(self, filename: str | None) -> bool:
        # Flask escapes only .html/.xml/.svg by name; every template here is HTML (.html.j2).
        return True


def _proxies(settings: Settings) -> int:
    text = settings.environ.get("TRACKER_TRUSTED_PROXIES", "0").strip() or "0"
    if not text.isdigit() or int(text) > 5:
        raise ConfigError(f"TRACKER_TRUSTED_PROXIES={text!r}: must be a number from 0 to 5")
    return int(text)


def create_app(
    settings: Settings | None = None,
    *,
    testing: bool = False,
    debug: bool = False,
    clock: Callable[[], datetime] | None = None,
    transport: Transport | None = None,
) -> Flask:
    """The app on ``settings`` (default: the environment), its database migrated.

    ``clock`` and ``transport`` replace the real time and the mail transport (tests).
    Raises ConfigError when ``TRACKER_SECRET_KEY`` is missing outside debug and testing.
    """
    settings = settings or settings_from_env()
    if not settings.mail.secret_key and not (testing or debug):
        raise ConfigError("TRACKER_SECRET_KEY is not set: the web app signs its sessions and "
                          f"sign-in links with it ({_KEY_HINT})")
    link_key = signing_key(settings.mail)
    state = WebState(
        settings=settings, repo=open_repository(settings), registry=REGISTRY,
        link_key=link_key, session_key=derive_key(link_key, "session"),
        sign_in_key=derive_key(link_key, "sign-in"), client_key=derive_key(link_key, "client"),
        staff=staff_from_env(settings.environ), clock=clock or utcnow,
        transport=(lambda: transport) if transport is not None else (
            lambda: transport_for(settings.mail)),
    )
    app = _TrackerFlask(__name__, static_folder="static", template_folder="templates")
    app.jinja_options = {**app.jinja_options, "undefined": StrictUndefined,
                         "trim_blocks": True, "lstrip_blocks": True}
    app.config.update(
        SECRET_KEY=state.session_key, TESTING=testing, DEBUG=debug,
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES, PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        **cookie_settings(settings.mail.public_url),
    )
    app.extensions[EXTENSION] = state
    proxies = _proxies(settings)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    _register(app)
    _install_log_filter()
    return app


def _register(app: Flask) -> None:
    for blueprint in (pages.bp, exports.bp, api.bp, api.health, account.bp, unsubscribe.bp,
                      admin.bp):
        app.register_blueprint(blueprint)
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(BadFilter, _bad_filter)
    app.register_error_handler(CsrfRefused, _csrf_refused)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _before() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        view = current_app.view_functions.get(request.endpoint or "")
        if not is_csrf_exempt(view):
            check_csrf(session, request.form)


def _after(response: Response) -> Response:
    path = request.path
    headers = security_headers(
        https=web_state().https,
        no_store=path.startswith(PRIVATE_PREFIXES) or bool(session.get("email")),
        token_page=path.startswith(TOKEN_PREFIXES),
    )
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _wants_text() -> bool:
    return request.path.endswith(".csv")


def _error(status: int, message: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify({"error": message}), status
    if _wants_text():
        return Response(f"error: {message}\n", status=status, mimetype="text/plain")
    words = catalog()
    key = f"web.error.{status}"
    title = words.get(key) or words.t("web.error.title")
    back = (words.t("web.common.back_home"), "/")
    return render("message.html.j2", status=status, title=title, message=message, links=(back,))


def _bad_filter(error: BadFilter) -> ResponseReturnValue:
    return _error(400, str(error))


def _csrf_refused(error: CsrfRefused) -> ResponseReturnValue:
    return _error(400, catalog().t("web.error.csrf"))


def _http_error(error: HTTPException) -> ResponseReturnValue:
    if error.code is None or error.code < 400:
        return error
    words = catalog()
    message = words.get(f"web.error.{error.code}_text") or (error.description or "")
    if error.code == 400 and error.description and _wants_json():
        message = error.description
    return _error(error.code, message)


def _unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("unexpected error on %s %s", request.method, redact_tokens(request.path))
    g.pop("catalog", None)
    return _http_error(InternalServerError())


def _install_log_filter() -> None:
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactTokens) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactTokens())
