"""Message catalogs: ``notifiers/locales/<language>.toml``, one per :class:`Language`.

A catalog is a TOML file whose nested tables flatten to dotted keys (``[stage]`` ``reported``
-> ``stage.reported``). Every value is plain text with ``{named}`` placeholders (``str.format``
syntax), never markup: templates escape it like any other text. Counted phrases have
``.one`` and ``.other`` forms (:meth:`Catalog.plural`); Korean repeats the same text in both.
Every catalog has exactly the same keys as every other (tested), so a lookup that works in
English works in every language.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from tracker.digest import Language
from tracker.errors import ConfigError

_FORMATTER = string.Formatter()


@dataclass(frozen=True, slots=True)
class Catalog:
    """The messages of one language; lookups raise ConfigError naming file and key."""

    language: Language
    source: str
    messages: Mapping[str, str]

    def t(self, key: str, /, **values: object) -> str:
        """The message ``key`` with its placeholders filled from ``values``."""
        text = self.messages.get(key)
        if text is None:
            raise ConfigError(f"{self.source}: no message {key!r}")
        try:
            return text.format_map(values)
        except KeyError as exc:
            raise ConfigError(
                f"{self.source}: {key}: placeholder {{{exc.args[0]}}} was given no value"
            ) from None
        except (ValueError, IndexError) as exc:
            raise ConfigError(f"{self.source}: {key}: bad placeholder: {exc}") from None

    def plural(self, key: str, /, count: int, **values: object) -> str:
        """``key.one`` when ``count`` is 1, else ``key.other``; ``{count}`` is filled in."""
        form = "one" if count == 1 else "other"
        return self.t(f"{key}.{form}", count=count, **values)

    def get(self, key: str, /) -> str | None:
        """The raw message ``key``, or None when the catalog has none (for optional names)."""
        return self.messages.get(key)


def _flatten(data: Mapping[str, Any], *, source: str, prefix: str = "") -> dict[str, str]:
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


def placeholders(text: str) -> set[str]:
    """The ``{named}`` placeholders of one message."""
    return {field for _, field, _, _ in _FORMATTER.parse(text) if field}


@cache
def load_catalog(language: Language) -> Catalog:
    """The catalog of ``language`` (read once per process)."""
    resource = files("notifiers") / "locales" / f"{language.value}.toml"
    source = f"notifiers/locales/{language.value}.toml"
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: message catalog not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return Catalog(language=language, source=source, messages=_flatten(data, source=source))
