"""The message catalogs: the same keys and placeholders in every language, and every key the
renderer asks for exists."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from notifiers.catalog import Catalog, load_catalog, placeholders
from notifiers.context import FIELDS, Labels
from tracker.changes import ChangeKind
from tracker.digest import Language
from tracker.errors import ConfigError
from tracker.models import LADDER, Stage

NOTIFIERS = Path(__file__).resolve().parents[2] / "notifiers"
CATALOGS = {language: load_catalog(language) for language in Language}
ENGLISH = CATALOGS[Language.EN]


@pytest.mark.parametrize("language", [Language.KO, Language.ES])
def test_every_catalog_has_exactly_the_english_keys(language: Language) -> None:
    keys = set(CATALOGS[language].messages)
    assert keys - set(ENGLISH.messages) == set(), "keys English does not have"
    assert set(ENGLISH.messages) - keys == set(), "keys missing from this catalog"


@pytest.mark.parametrize("language", [Language.KO, Language.ES])
def test_every_message_has_the_english_placeholders(language: Language) -> None:
    catalog = CATALOGS[language]
    for key, text in ENGLISH.messages.items():
        assert placeholders(catalog.messages[key]) == placeholders(text), key


@pytest.mark.parametrize("language", list(Language))
def test_no_message_is_empty_or_left_in_english(language: Language) -> None:
    catalog = CATALOGS[language]
    for key, text in catalog.messages.items():
        assert text.strip(), key
    if language is Language.KO:
        # Korean text is Hangul; only names and separators may match English.
        same = {k for k, v in catalog.messages.items() if v == ENGLISH.messages[k]}
        assert same <= {"subject.alert", "target.bill", "list.separator"}, same


# Keys the renderer builds from values rather than writing them out.
def dynamic_keys() -> set[str]:
    keys = {f"stage.{s.value}" for s in Stage if s is not Stage.TO_EXECUTIVE}
    keys |= {f"ladder.{s.value}" for s in LADDER if s is not Stage.TO_EXECUTIVE}
    keys |= {f"{table}.to-executive-{kind}" for table in ("stage", "ladder")
             for kind in ("federal", "state")}
    keys |= {f"change.{k.value}" for k in ChangeKind}
    keys |= {f"month.{n}" for n in range(1, 13)}
    keys |= {f"field.{f}" for f in FIELDS}
    keys |= {f"heading.{name}" for name in ("digest", "digest_daily", "digest_weekly", "alert",
                                            "welcome", "operator")}
    for counted in ("subject.digest", "subject.digest_daily", "subject.digest_weekly",
                    "subject.alert_more", "subject.operator", "intro.digest",
                    "intro.digest_until", "intro.welcome", "time.minutes", "time.hours",
                    "time.days"):
        keys |= {f"{counted}.one", f"{counted}.other"}
    return keys


_LITERAL = re.compile(r"""\b(?:t|plural)\(\s*f?"([a-z_.{}\-]+)\"""")


def literal_keys() -> set[str]:
    """Keys written out in the renderer's code (``t("footer.manage")``, ``plural("...")``)."""
    found = set()
    for path in (NOTIFIERS / "context.py", NOTIFIERS / "render.py"):
        for key in _LITERAL.findall(path.read_text(encoding="utf-8")):
            if "{" not in key:
                found.add(key)
    return found


def test_every_key_the_renderer_uses_exists() -> None:
    used = literal_keys()
    assert len(used) > 30, "the scan found the renderer's lookups"
    plural = {k for k in used if f"{k}.one" in ENGLISH.messages}
    missing = {k for k in used - plural if k not in ENGLISH.messages}
    missing |= {k for k in dynamic_keys() if k not in ENGLISH.messages}
    assert missing == set()


def test_every_catalog_key_is_used() -> None:
    used = literal_keys() | dynamic_keys() | {"mail.from_name"}
    used |= {f"{k}.{form}" for k in literal_keys() for form in ("one", "other")}
    unused = {k for k in ENGLISH.messages
              if k not in used and not k.startswith("jurisdiction.")}
    assert unused == set()


def test_catalog_errors_name_the_file_and_key() -> None:
    catalog = Catalog(Language.EN, "notifiers/locales/en.toml", {"a.b": "Hello {name}"})
    assert catalog.t("a.b", name="Ana") == "Hello Ana"
    with pytest.raises(ConfigError, match=r"en.toml: no message 'a.c'"):
        catalog.t("a.c")
    with pytest.raises(ConfigError, match=r"en.toml: a.b: placeholder \{name\} was given no value"):
        catalog.t("a.b")


def test_values_are_not_reinterpreted() -> None:
    catalog = Catalog(Language.EN, "x", {"k": "{value}"})
    assert catalog.t("k", value="{other} <b>") == "{other} <b>"


def test_plural_forms() -> None:
    assert ENGLISH.plural("time.hours", 1) == "1 hour ago"
    assert ENGLISH.plural("time.hours", 3) == "3 hours ago"
    assert CATALOGS[Language.ES].plural("time.days", 1) == "hace 1 día"
    assert CATALOGS[Language.KO].plural("time.days", 4) == "4일 전"


def test_every_label_and_view_field_reaches_a_template() -> None:
    templates = "".join((NOTIFIERS / "templates" / name).read_text(encoding="utf-8")
                        for name in ("digest.html.j2", "digest.txt.j2"))
    for label in fields(Labels):
        assert f"view.labels.{label.name}" in templates, label.name
