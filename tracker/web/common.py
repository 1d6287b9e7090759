"""Helpers every route module uses: the page's words, links to bills and topics, rendering.

:func:`render` gives every template the same frame (:class:`Chrome`: navigation, the language
switch, the visitor, the CSRF token, notices) beside the page's own view, and the catalog's
``t`` for fixed words. Links are built with ``url_for`` so the app also works mounted under a
path prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import quote

from flask import flash, g, get_flashed_messages, render_template, request, session, url_for

from notifiers.catalog import Catalog
from tracker.digest import Language
from tracker.models import BillKey
from tracker.web import i18n
from tracker.web.present import Option, Words
from tracker.web.security import csrf_token
from tracker.web.state import Visitor, visitor, web_state


def catalog() -> Catalog:
    """The catalog of this request's language (chosen once per request)."""
    found: Catalog | None = g.get("catalog")
    if found is None:
        language = i18n.choose_language(session.get("lang"), request.accept_languages)
        found = g.catalog = i18n.page_catalog(language)
    return found


def words() -> Words:
    state = web_state()
    return Words(catalog(), topics=state.settings.topics, zone=UTC, now=state.clock())


def current_visitor() -> Visitor:
    found: Visitor | None = g.get("visitor")
    if found is None:
        found = g.visitor = visitor()
    return found


def bill_url(key: str) -> str:
    parsed = BillKey.parse(key)
    return url_for("pages.bill", jurisdiction=parsed.jurisdiction, session=parsed.session,
                   identifier=parsed.identifier)


def topic_url(topic_id: str) -> str:
    return url_for("pages.topic", topic_id=topic_id)


def url_with(endpoint: str, params: Mapping[str, str], **more: object) -> str:
    """``url_for`` with a query's parameters (``params``) and a few more."""
    values: dict[str, Any] = {**params, **more}
    return url_for(endpoint, **values)


def current_path() -> str:
    """This page's path as a URL path (werkzeug hands it decoded: ``HR 2471`` has a space)."""
    return quote(request.path, safe="/:@!$&'()*+,;=~")


def here() -> str:
    """This page's path and query, for a ``next`` that comes back here."""
    query = request.query_string.decode("latin-1")
    return f"{current_path()}?{query}" if query else current_path()


def notice(text: str) -> None:
    """A one-line message shown on the next page (after a redirect)."""
    flash(text)


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class Chrome:
    lang: str
    site_name: str
    nav: tuple[NavLink, ...]
    languages: tuple[Option, ...]
    here: str
    csrf: str
    visitor: Visitor
    notices: tuple[str, ...]


def chrome() -> Chrome:
    words_of = catalog()
    who = current_visitor()
    links = [("pages.dashboard", "web.nav.dashboard"), ("pages.bills", "web.nav.bills"),
             ("pages.events", "web.nav.events"), ("pages.topics", "web.nav.topics")]
    if who.signed_in:
        links.append(("account.account", "web.nav.account"))
    if who.staff:
        links.append(("admin.admin", "web.nav.admin"))
    nav = tuple(NavLink(words_of.t(label), url_for(endpoint), request.endpoint == endpoint)
                for endpoint, label in links)
    languages = tuple(
        Option(language.value, words_of.t(f"web.language.{language.value}"),
               language is words_of.language)
        for language in Language
    )
    return Chrome(
        lang=words_of.language.value, site_name=words_of.t("web.site.name"), nav=nav,
        languages=languages, here=here(), csrf=csrf_token(session), visitor=who,
        notices=tuple(str(m) for m in get_flashed_messages()),
    )


def render(template: str, *, status: int = 200, **view: Any) -> tuple[str, int]:
    """Render ``template`` with the page frame, the catalog's ``t`` and the page's view."""
    page = render_template(template, chrome=chrome(), t=catalog().t, **view)
    return page, status
