"""The one reader of the environment and the TOML config files.

* ``TRACKER_CONFIG``: the config folder (default ``./config``). A file missing there falls back
  to the defaults shipped with the package (``tracker/defaults/``), so a fresh machine runs
  with no config at all.
* ``TRACKER_DATABASE_URL``: the database (default ``sqlite:///tracker.db`` in the working
  directory; PostgreSQL as ``postgresql+psycopg://user@host/db``).

Files read here: ``tracker.toml`` (``[http]`` politeness and the contact for the User-Agent),
``sources.toml`` (one ``[sources.<name>]`` table per source) and ``topics.toml`` (the
affiliates' issues, read by :mod:`tracker.topic_config`). Anything wrong is refused
with one line naming the file, the key and what is wrong, as a :class:`ConfigError`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError
from tracker.topic_config import read_topics
from tracker.topics import Topic

DEFAULT_DATABASE_URL = "sqlite:///tracker.db"
_DURATION_PART = re.compile(r"(\d+)\s*(d|h|m|s)")
_DURATION = re.compile(r"^\s*(?:\d+\s*[dhms]\s*)+$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def parse_duration(text: str) -> timedelta:
    """``"4h"``, ``"30m"``, ``"2s"``, ``"1h30m"``, ``"7d"`` -> timedelta; ValueError otherwise."""
    if not isinstance(text, str) or not _DURATION.match(text):
        raise ValueError(f'{text!r} is not a duration (use e.g. "4h", "30m", "2s")')
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(text))
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """One ``[sources.<name>]`` table."""

    name: str
    enabled: bool = False
    base_url: str | None = None
    sessions: tuple[str, ...] = ()
    interval: timedelta = timedelta(hours=4)
    key_env: tuple[str, ...] = ()
    quiet_period: timedelta | None = None
    max_failures: int = 3
    lead: bool = True
    #: Requests a metered API allows per calendar month (LegiScan); ``None``: not metered.
    monthly_queries: int | None = None

    def key(self, environ: Mapping[str, str]) -> str | None:
        """The first API key found in the environment variables this source names."""
        for name in self.key_env:
            value = environ.get(name)
            if value:
                return value
        return None


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """``[http]`` in tracker.toml: how politely every source is polled."""

    contact: str = "tracker-operator@example.org"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_bytes: int = 50 * 1024 * 1024
    retry_after_max: float = 120.0
    min_interval: float = 1.0
    retries: int = 4

    @property
    def user_agent(self) -> str:
        return f"tracker/0.1 (legislation alerts; contact: {self.contact})"


_SMTP_TLS_MODES = ("none", "starttls", "ssl")


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Mail delivery, from the environment only (secrets never live in files).

    Without ``TRACKER_SMTP_HOST`` digests are written as ``.eml`` files to ``outbox_dir``.
    """

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: str = "none"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = "tracker@localhost"
    public_url: str = "http://localhost:8080"
    secret_key: str | None = field(default=None, repr=False)
    outbox_dir: Path = Path("outbox")
    operator_email: str | None = None


def read_mail_settings(env: Mapping[str, str]) -> MailSettings:
    """Read ``TRACKER_SMTP_*``, ``TRACKER_MAIL_FROM``, ``TRACKER_PUBLIC_URL``,
    ``TRACKER_SECRET_KEY``, ``TRACKER_OUTBOX_DIR`` and ``TRACKER_OPERATOR_EMAIL``."""
    tls = env.get("TRACKER_SMTP_TLS", "none").strip().lower() or "none"
    if tls not in _SMTP_TLS_MODES:
        raise ConfigError(f"TRACKER_SMTP_TLS={tls!r}: must be one of {', '.join(_SMTP_TLS_MODES)}")
    default_port = {"none": 25, "starttls": 587, "ssl": 465}[tls]
    port_text = env.get("TRACKER_SMTP_PORT", "").strip()
    try:
        port = int(port_text) if port_text else default_port
    except ValueError:
        raise ConfigError(f"TRACKER_SMTP_PORT={port_text!r}: must be a port number") from None
    if not 0 < port < 65536:
        raise ConfigError(f"TRACKER_SMTP_PORT={port_text!r}: must be between 1 and 65535")
    public_url = env.get("TRACKER_PUBLIC_URL", "http://localhost:8080").rstrip("/")
    if not re.match(r"^https?://[^\s/]+", public_url):
        raise ConfigError(f"TRACKER_PUBLIC_URL={public_url!r}: must be an http(s) URL")
    mail_from = env.get("TRACKER_MAIL_FROM", "tracker@localhost").strip()
    if "@" not in mail_from or any(c in mail_from for c in "\r\n"):
        raise ConfigError(f"TRACKER_MAIL_FROM={mail_from!r}: must be an email address")
    operator = env.get("TRACKER_OPERATOR_EMAIL", "").strip() or None
    return MailSettings(
        smtp_host=env.get("TRACKER_SMTP_HOST", "").strip() or None,
        smtp_port=port,
        smtp_tls=tls,
        smtp_user=env.get("TRACKER_SMTP_USER") or None,
        smtp_password=env.get("TRACKER_SMTP_PASSWORD") or None,
        mail_from=mail_from,
        public_url=public_url,
        secret_key=env.get("TRACKER_SECRET_KEY") or None,
        outbox_dir=Path(env.get("TRACKER_OUTBOX_DIR", "outbox")),
        operator_email=operator,
    )


@dataclass(frozen=True, slots=True)
class Settings:
    config_dir: Path
    database_url: str
    sources: Mapping[str, SourceSettings]
    http: HttpSettings = field(default_factory=HttpSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    topics: tuple[Topic, ...] = ()
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: ``[pipeline] workers`` in tracker.toml: ingest worker processes for large polls
    #: (None: "auto", one per core beyond the first; 0: none).
    ingest_workers: int | None = None

    def source(self, name: str) -> SourceSettings:
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "none"
            raise ConfigError(f"unknown source {name!r} (configured: {known})") from None


def packaged_defaults() -> Path:
    """The folder of default config files shipped inside the package."""
    return Path(str(files("tracker") / "defaults"))


def config_file(config_dir: Path, name: str) -> Path:
    """``config_dir/name`` if it exists, else the packaged default of that name."""
    candidate = config_dir / name
    return candidate if candidate.exists() else packaged_defaults() / name


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


class _Table:
    """Typed reads from one TOML table, each error naming the file and the dotted key."""

    def __init__(self, path: Path, prefix: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: {prefix} must be a table")
        self.path, self.prefix, self.data = path, prefix, data

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}.{key}: {problem}")

    def refuse_unknown(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(key, f"unknown key (known keys: {known})")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        # bool is an int in Python; a number where a flag is wanted is a mistake, and back.
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise self.fail(key, f"must be {names}, not {value!r}")
        return value

    def duration(self, key: str, default: timedelta | None) -> timedelta | None:
        if key not in self.data:
            return default
        try:
            return parse_duration(self.data[key])
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"must be a list of non-empty strings, not {value!r}")
        return tuple(value)

    def url(self, key: str) -> str | None:
        value = self.get(key, str, None)
        if value is not None and not re.match(r"^(https?|ftp)://[^\s/]+", value):
            raise self.fail(key, f"must be an http(s) or ftp URL, not {value!r}")
        return value.rstrip("/") if value else None


_SOURCE_KEYS = {
    "enabled", "base_url", "sessions", "interval", "key_env", "quiet_period", "max_failures",
    "lead", "monthly_queries",
}  # fmt: skip


def _source_settings(path: Path, name: str, data: Any) -> SourceSettings:
    table = _Table(path, f"sources.{name}", data)
    table.refuse_unknown(_SOURCE_KEYS)
    key_env = table.strings("key_env")
    for env_name in key_env:
        if not _ENV_NAME.match(env_name):
            raise table.fail("key_env", f"{env_name!r} is not an environment variable name")
    max_failures = table.get("max_failures", int, 3)
    if max_failures < 1:
        raise table.fail("max_failures", "must be at least 1")
    monthly_queries = table.get("monthly_queries", int, None)
    if monthly_queries is not None and monthly_queries < 1:
        raise table.fail("monthly_queries", "must be at least 1")
    return SourceSettings(
        name=name,
        enabled=table.get("enabled", bool, False),
        base_url=table.url("base_url"),
        sessions=table.strings("sessions"),
        interval=table.duration("interval", timedelta(hours=4)) or timedelta(hours=4),
        key_env=key_env,
        quiet_period=table.duration("quiet_period", None),
        max_failures=max_failures,
        lead=table.get("lead", bool, True),
        monthly_queries=monthly_queries,
    )


def read_sources(path: Path, *, known: set[str] | None = None) -> dict[str, SourceSettings]:
    data = read_toml(path)
    extra = set(data) - {"sources"}
    if extra:
        raise ConfigError(f"{path}: {sorted(extra)[0]}: unknown table (expected [sources.<name>])")
    tables = data.get("sources", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: sources must be a table of [sources.<name>] tables")
    result = {}
    for name, table in tables.items():
        if known is not None and name not in known:
            raise ConfigError(
                f"{path}: sources.{name}: unknown source (known: {', '.join(sorted(known))})"
            )
        result[name] = _source_settings(path, name, table)
    return result


_HTTP_KEYS = {
    "contact", "connect_timeout", "read_timeout", "max_bytes", "retry_after_max",
    "min_interval", "retries",
}  # fmt: skip


def read_tracker_toml(path: Path) -> HttpSettings:
    data = read_toml(path)
    extra = set(data) - {"http", "pipeline"}
    if extra:
        raise ConfigError(f"{path}: {sorted(extra)[0]}: unknown table (known: http, pipeline)")
    table = _Table(path, "http", data.get("http", {}))
    table.refuse_unknown(_HTTP_KEYS)
    defaults = HttpSettings()
    number = (int, float)
    settings = HttpSettings(
        contact=table.get("contact", str, defaults.contact),
        connect_timeout=float(table.get("connect_timeout", number, defaults.connect_timeout)),
        read_timeout=float(table.get("read_timeout", number, defaults.read_timeout)),
        max_bytes=table.get("max_bytes", int, defaults.max_bytes),
        retry_after_max=float(table.get("retry_after_max", number, defaults.retry_after_max)),
        min_interval=float(table.get("min_interval", number, defaults.min_interval)),
        retries=table.get("retries", int, defaults.retries),
    )
    for key in ("connect_timeout", "read_timeout", "max_bytes", "retry_after_max"):
        if getattr(settings, key) <= 0:
            raise table.fail(key, "must be greater than zero")
    if settings.min_interval < 0 or settings.retries < 0:
        raise table.fail(
            "min_interval" if settings.min_interval < 0 else "retries", "must not be negative"
        )
    return settings


def read_ingest_workers(path: Path) -> int | None:
    """``[pipeline] workers`` of tracker.toml: a number of processes (0: none) or "auto"."""
    table = _Table(path, "pipeline", read_toml(path).get("pipeline", {}))
    table.refuse_unknown({"workers"})
    value = table.get("workers", (int, str), "auto")
    if value == "auto":
        return None
    if isinstance(value, str) or value < 0:
        raise table.fail("workers", f'must be "auto" or a number of processes (0: none), '
                                    f"not {value!r}")
    return int(value)


def load_settings(
    environ: Mapping[str, str] | None = None, *, known_sources: set[str] | None = None
) -> Settings:
    """Read the environment and config files into one frozen :class:`Settings`."""
    env = dict(os.environ if environ is None else environ)
    configured = env.get("TRACKER_CONFIG")
    config_dir = Path(configured) if configured else Path("config")
    if configured and not config_dir.is_dir():
        raise ConfigError(f"TRACKER_CONFIG={configured}: no such folder")
    database_url = env.get("TRACKER_DATABASE_URL") or DEFAULT_DATABASE_URL
    return Settings(
        config_dir=config_dir,
        database_url=database_url,
        sources=read_sources(config_file(config_dir, "sources.toml"), known=known_sources),
        http=read_tracker_toml(config_file(config_dir, "tracker.toml")),
        ingest_workers=read_ingest_workers(config_file(config_dir, "tracker.toml")),
        mail=read_mail_settings(env),
        topics=read_topics(config_file(config_dir, "topics.toml")),
        environ=env,
    )
