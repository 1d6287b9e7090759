"""Digest -> subject, plain text and HTML, in the recipient's language.

* Templates: ``notifiers/templates/digest.txt.j2`` and ``digest.html.j2``, loaded with
  ``PackageLoader("notifiers", "templates")``; HTML is autoescaped (``select_autoescape``),
  text is not; ``StrictUndefined`` turns a misspelt variable into an error instead of an
  empty string; ``trim_blocks``/``lstrip_blocks`` keep the text part's layout as written.
* The templates hold no logic: :func:`notifiers.context.build_view` decides everything.
* Chrome comes from the recipient's catalog (:mod:`notifiers.catalog`); the HTML carries
  ``<html lang="...">``; bill titles stay in their original English.
* An HTML part that would pass :data:`HTML_BUDGET` shows its last items briefly, so mail
  clients that clip long messages (Gmail, at 102 KB) still show the footer.
* CSS is inlined with css-inline (``load_remote_stylesheets=False``: rendering never touches
  the network; ``keep_at_rules=True``: the ``@media`` rules for small screens and dark mode
  stay in a ``<style>`` for the clients that honour them).
* Topic names come from the configured topics (``settings.topics``, each with ``names`` per
  language); a topic no longer configured is shown by its id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import css_inline
from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from notifiers.catalog import load_catalog
from notifiers.context import DigestView, build_view
from notifiers.links import DigestLinks
from tracker.digest import Digest, Language
from tracker.errors import ConfigError, TrackerError
from tracker.settings import Settings

TEXT_TEMPLATE = "digest.txt.j2"
HTML_TEMPLATE = "digest.html.j2"
#: Gmail shows "[Message clipped]" and hides the rest (the footer with the unsubscribe links)
#: past 102 KB of HTML; stay under it with a margin.
HTML_BUDGET = 90_000


class RenderError(TrackerError):
    """A digest could not be rendered (names the digest)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """One rendered digest. ``subject`` is plain text, still to be made header-safe."""

    subject: str
    text: str
    html: str
    language: Language
    from_name: str


@cache
def environment() -> Environment:
    """The one jinja2 environment (templates are compiled once per process)."""
    return Environment(
        loader=PackageLoader("notifiers", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"),
                                     default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


def topic_names(settings: Settings, language: Language) -> dict[str, str]:
    """Topic id -> its name in ``language``, from the configured topics (``topics.toml``)."""
    return {topic.id: topic.names.in_language(language.value) for topic in settings.topics}


def render_text(view: DigestView) -> str:
    return environment().get_template(TEXT_TEMPLATE).render(view=view)


def render_html(view: DigestView) -> str:
    """The CSS-inlined HTML of a built view."""
    return _inliner().inline(environment().get_template(HTML_TEMPLATE).render(view=view))


def _fitting_html(build: Callable[[int | None], DigestView], *, whole: DigestView, items: int,
                  budget: int) -> str:
    """The HTML with as many items in full as fit in ``budget`` bytes (all, if they fit);
    ``whole`` is ``build(None)``, already built for the text part."""
    html = render_html(whole)
    full = items
    while len(html.encode()) > budget and full > 0:
        # Items weigh about the same: aim at the share that fits, and at least one fewer.
        full = max(0, min(full - 1, full * budget // len(html.encode())))
        html = render_html(build(full))
    return html


def render(
    digest: Digest, *, settings: Settings, links: DigestLinks | None,
    html_budget: int = HTML_BUDGET,
) -> Rendered:
    """Render ``digest`` for its recipient. Raises RenderError naming the digest.

    When the HTML would pass ``html_budget`` bytes, its last items are shown briefly (see
    :mod:`notifiers.context`); the text part always tells everything.
    """
    language = digest.recipient.language
    try:
        catalog = load_catalog(language)
        names = topic_names(settings, language)

        def build(full_items: int | None) -> DigestView:
            return build_view(digest, catalog=catalog, links=links,
                              public_url=settings.mail.public_url, topic_names=names,
                              full_items=full_items)

        view = build(None)
        text = render_text(view)
        items = sum(len(group.items) for group in digest.groups)
        html = _fitting_html(build, whole=view, items=items, budget=html_budget)
    except (ConfigError, TemplateError, ValueError) as exc:
        raise RenderError(f"digest {digest.digest_key}: cannot be rendered: {exc}") from None
    return Rendered(subject=view.subject, text=text, html=html, language=language,
                    from_name=catalog.t("mail.from_name"))
