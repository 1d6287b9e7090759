"""The web app's words: the digests' message catalogs, extended with the pages' own chrome.

A page's catalog is the digest catalog of its language (``notifiers/locales/<lang>.toml``:
stage names, progress labels, change kinds, jurisdiction names, date formats, "why you see
this") merged with ``tracker/web/locales/<lang>.toml``, whose keys all start with ``web.`` so
the two never collide. The result is a :class:`notifiers.catalog.Catalog`, so pages and mail
say "Passed the chamber of origin" in the same words. Every web catalog has the same keys and
placeholders as every other (tested), as the digest catalogs do.

The language of a page: the one the visitor chose with the language switch (kept in the
session), else the best match of the browser's ``Accept-Language``, else English. It is
independent of the language of a subscriber's digests (a preference of their own).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from importlib.resources import files
from typing import Any

from notifiers.catalog import Catalog, load_catalog
from tracker.digest import Language
from tracker.errors import ConfigError
from tracker.models import Stage

PREFIX = "web."
LANGUAGES: tuple[str, ...] = tuple(language.value for language in Language)


def _flatten(data: Mapping[str, Any], *, source: str, prefix: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, source=source, prefix=f"{key}."))
        elif isinstance(value, str):
            flat[key] = value
        else:
            raise ConfigError(f"{source}: {key}: must be text, not {value!r}")
    return flat


def web_messages(language: Language) -> dict[str, str]:
    """The pages' own messages of ``language``, keyed ``web.<table>.<key>``."""
    source = f"tracker/web/locales/{language.value}.toml"
    resource = files("tracker.web") / "locales" / f"{language.value}.toml"
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: message catalog not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return _flatten(data, source=source, prefix=PREFIX)


@cache
def page_catalog(language: Language) -> Catalog:
    """The digest catalog of ``language`` with the pages' messages added (read once)."""
    digest = load_catalog(language)
    return Catalog(
        language=language,
        source=f"{digest.source} + tracker/web/locales/{language.value}.toml",
        messages={**digest.messages, **web_messages(language)},
    )


def choose_language(chosen: object, accepted: Iterable[tuple[str, float]]) -> Language:
    """The session's choice when it is a known language, else the first known language of
    ``Accept-Language`` (given best first, as werkzeug parses it), else English."""
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return Language(chosen)
    for tag, _quality in accepted:
        primary = tag.split("-", 1)[0].strip().lower()
        if primary in LANGUAGES:
            return Language(primary)
    return Language.EN


# --- words for values ---------------------------------------------------------------------------


def stage_key(stage: str, jurisdiction: str) -> str:
    """The catalog key of a stage: "sent to the executive" names the President or a Governor."""
    if stage == Stage.TO_EXECUTIVE.value:
        return "to-executive-federal" if jurisdiction == "us" else "to-executive-state"
    return stage


def stage_name(catalog: Catalog, stage: str, jurisdiction: str) -> str:
    """``passed-origin`` -> "Passed the chamber of origin"; an unknown stage as it is. With no
    ``jurisdiction`` (a list across jurisdictions) the executive is named generally."""
    if stage == Stage.TO_EXECUTIVE.value and not jurisdiction:
        return catalog.t("web.any.stage_to_executive")
    return catalog.get(f"stage.{stage_key(stage, jurisdiction)}") or stage


def ladder_label(catalog: Catalog, stage: str, jurisdiction: str) -> str:
    """The short label of a ladder step (progress bars, funnels), as :func:`stage_name`."""
    if stage == Stage.TO_EXECUTIVE.value and not jurisdiction:
        return catalog.t("web.any.ladder_to_executive")
    return catalog.t(f"ladder.{stage_key(stage, jurisdiction)}")


def jurisdiction_name(catalog: Catalog, code: str) -> str:
    return catalog.get(f"jurisdiction.{code}") or code.upper()


def format_date(catalog: Catalog, day: date) -> str:
    return catalog.t("date.format", year=day.year, month=catalog.t(f"month.{day.month}"),
                     day=day.day)


def format_moment(catalog: Catalog, moment: datetime, zone: tzinfo = UTC) -> str:
    local = moment.astimezone(zone)
    return catalog.t("date.moment", date=format_date(catalog, local.date()),
                     hour=f"{local.hour:02d}", minute=f"{local.minute:02d}",
                     zone=local.tzname() or "UTC")


def ago(catalog: Catalog, moment: datetime, *, now: datetime) -> str:
    """"3 hours ago", in the catalog's words."""
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return catalog.t("time.just_now")
    if seconds < 3600:
        return catalog.plural("time.minutes", seconds // 60)
    if seconds < 48 * 3600:
        return catalog.plural("time.hours", seconds // 3600)
    return catalog.plural("time.days", seconds // 86400)


def field_name(catalog: Catalog, name: str) -> str:
    """Where a topic term matched (``title``, ``actions`` ...), in the catalog's words."""
    key = "actions" if name in ("action", "actions") else name
    return catalog.get(f"field.{key}") or name
