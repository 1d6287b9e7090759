"""Reading ``topics.toml``: the affiliates' issues as :class:`tracker.topics.Topic` values.

The file holds one ``[topics.<id>]`` table per topic (ids are lower-case words joined by
hyphens, at most 64 characters, e.g. ``drivers-licenses``)::

    [topics.hate-crimes]
    names = { en = "Hate crimes", ko = "증오 범죄", es = "Delitos de odio" }
    description = "Bias-motivated crimes: definitions, penalties, reporting."
    fields = ["title", "summary", "subjects"]   # optional: title, summary, subjects, actions
    jurisdictions = ["va", "ny"]                 # optional: every jurisdiction when absent
    requires = ["..."]                           # optional topic-wide co-terms
    excludes = ["..."]                           # optional phrases that veto the topic
    terms = [
      "hate crime",                              # a phrase alone, or a table:
      { phrase = "bias crime", variants = ["bias-motivated crime"], requires = [], excludes = [] },
    ]

(``[[topics.<id>.terms]]`` tables work as well as the inline list.) Phrase syntax and the
matching rules are in :mod:`tracker.topics`. Every topic needs names in ``en``, ``ko`` and
``es`` and a description. Anything wrong is refused with one line naming the file, the
dotted key and what is wrong (a :class:`tracker.errors.ConfigError`); unknown keys are
refused too, so a misspelt ``exclude`` cannot silently stop vetoing.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError
from tracker.topics import (
    DEFAULT_FIELDS,
    Field,
    Term,
    Topic,
    TopicMatcher,
    TopicNames,
    normalize_phrase,
)

LANGUAGES = ("en", "ko", "es")
_TOPIC_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_JURISDICTION = re.compile(r"^[a-z]{2}$")
_TOPIC_KEYS = frozenset(
    {"names", "description", "terms", "fields", "jurisdictions", "requires", "excludes"}
)
_TERM_KEYS = frozenset({"phrase", "variants", "requires", "excludes"})


class _Reader:
    """Typed reads from one table of the file; every error names the file and dotted key."""

    def __init__(self, path: Path, key: str, data: Any) -> None:
        self.path, self.key = path, key
        if not isinstance(data, dict):
            raise self.fail(None, f"must be a table, not {data!r}")
        self.data: dict[str, Any] = data

    def fail(self, key: str | None, problem: str) -> ConfigError:
        dotted = self.key if key is None else f"{self.key}.{key}"
        return ConfigError(f"{self.path}: {dotted}: {problem}")

    def refuse_unknown(self, allowed: frozenset[str]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.fail(key, f"unknown key (known keys: {', '.join(sorted(allowed))})")

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if value is None:
            raise self.fail(key, "is missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, f"must be a list of non-empty strings, not {value!r}")
        return tuple(v.strip() for v in value)

    def phrases(self, key: str) -> tuple[str, ...]:
        phrases = []
        for value in self.strings(key):
            try:
                phrases.append(normalize_phrase(value))
            except ValueError as exc:
                raise self.fail(key, str(exc)) from None
        return tuple(phrases)


def _names(path: Path, key: str, data: Any) -> TopicNames:
    table = _Reader(path, key, data)
    table.refuse_unknown(frozenset(LANGUAGES))
    for language in LANGUAGES:
        if language not in table.data:
            raise table.fail(language, "is missing (every topic needs names in en, ko and es)")
    return TopicNames(en=table.text("en"), ko=table.text("ko"), es=table.text("es"))


def _term(path: Path, key: str, data: Any) -> Term:
    if isinstance(data, str):
        try:
            return Term(phrase=normalize_phrase(data))
        except ValueError as exc:
            raise ConfigError(f"{path}: {key}: {exc}") from None
    table = _Reader(path, key, data)
    table.refuse_unknown(_TERM_KEYS)
    phrase = table.text("phrase")
    try:
        phrase = normalize_phrase(phrase)
    except ValueError as exc:
        raise table.fail("phrase", str(exc)) from None
    return Term(
        phrase=phrase,
        variants=table.phrases("variants"),
        requires=table.phrases("requires"),
        excludes=table.phrases("excludes"),
    )


def _fields(table: _Reader) -> tuple[Field, ...]:
    if "fields" not in table.data:
        return DEFAULT_FIELDS
    names = table.strings("fields")
    known = [f.value for f in Field]
    for name in names:
        if name not in known:
            raise table.fail("fields", f"unknown field {name!r} (known: {', '.join(known)})")
    if not names:
        raise table.fail("fields", "must name at least one field")
    if len(set(names)) != len(names):
        raise table.fail("fields", "names a field twice")
    return tuple(Field(name) for name in names)


def _topic(path: Path, topic_id: str, data: Any) -> Topic:
    key = f"topics.{topic_id}"
    if not _TOPIC_ID.match(topic_id) or len(topic_id) > 64:
        raise ConfigError(
            f"{path}: {key}: a topic id is lower-case words joined by hyphens, at most 64 "
            "characters (e.g. drivers-licenses)"
        )
    table = _Reader(path, key, data)
    table.refuse_unknown(_TOPIC_KEYS)
    if "names" not in table.data:
        raise table.fail("names", "is missing (every topic needs names in en, ko and es)")
    names = _names(path, f"{key}.names", table.data["names"])
    description = table.text("description")
    raw_terms = table.data.get("terms")
    if not isinstance(raw_terms, list) or not raw_terms:
        raise table.fail("terms", "must be a non-empty list of phrases or term tables")
    terms = tuple(_term(path, f"{key}.terms[{i}]", item) for i, item in enumerate(raw_terms))
    jurisdictions = table.strings("jurisdictions")
    for jurisdiction in jurisdictions:
        if not _JURISDICTION.match(jurisdiction):
            raise table.fail(
                "jurisdictions", f"{jurisdiction!r} is not a jurisdiction (two lower-case letters)"
            )
    return Topic(
        id=topic_id,
        names=names,
        description=description,
        terms=terms,
        requires=table.phrases("requires"),
        excludes=table.phrases("excludes"),
        fields=_fields(table),
        jurisdictions=jurisdictions,
    )


def read_topics(path: Path) -> tuple[Topic, ...]:
    """Read and check ``topics.toml``; the topics in file order.

    Raises :class:`ConfigError` with one line naming the file, key and problem.
    """
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    extra = sorted(set(data) - {"topics"})
    if extra:
        raise ConfigError(f"{path}: {extra[0]}: unknown table (expected [topics.<id>])")
    tables = data.get("topics", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: topics must be a table of [topics.<id>] tables")
    topics = tuple(_topic(path, topic_id, table) for topic_id, table in tables.items())
    try:
        TopicMatcher(topics)  # every phrase compiles; ids are unique (TOML already ensures it)
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return topics
