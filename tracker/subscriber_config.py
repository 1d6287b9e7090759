"""``subscribers.toml``: subscribers and what they follow, declared in the config folder.

The file (``$TRACKER_CONFIG/subscribers.toml``; ``config/subscribers.example.toml`` documents
it) holds one ``[[subscriber]]`` table per person::

    [[subscriber]]
    email = "policy@example.org"          # required; stored lower-cased
    name = "National policy desk"         # optional
    affiliate = "national"                # optional
    language = "en"                       # en, ko or es (default en)
    timezone = "America/New_York"         # an IANA name (default America/New_York)
    frequency = "daily"                   # instant, daily or weekly (default daily)
    hour = 7                              # local hour of the digest, 0-23 (default 7)
    weekday = "mon"                       # weekly digests: mon .. sun (default mon)
    follow = [
      "topic:drivers-licenses",
      "bill:va/2020/HB 565",
      "jurisdiction:tx",
      { topic = "hate-crimes", within = ["va", "tx"] },
      { jurisdiction = "va", kinds = ["stage-change"], stages = ["passed-both", "enacted"] },
    ]

:func:`read_subscribers` validates it with the rules of :mod:`tracker.subscriptions`; anything
wrong is refused with one line naming the file, the key (``subscriber[2].follow[1]``) and the
problem, as a :class:`~tracker.errors.ConfigError`. Unknown keys are refused too.

:func:`sync_subscribers` applies it to the database (on start, and before each ``tracker
route``). The file is the truth for what it declares: profiles are overwritten, declared
subscriptions are created, updated or reactivated, and config-declared subscriptions that left
the file are deactivated. Subscriptions made with ``tracker subscribe`` are left alone, and so
is anything a person unsubscribed from: an unsubscribe sticks until they subscribe again. A
missing file changes nothing (so a command run from the wrong folder deactivates no one); an
empty one ends every config-declared subscription.

A followed bill need not be stored yet (the file is read before the first poll on a fresh
install); the sync report names the ones that are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapers import REGISTRY
from tracker.digest import TargetKind
from tracker.errors import ConfigError, InvalidSubscription
from tracker.settings import Settings, read_toml
from tracker.source import SourceFactory
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.subscriptions import (
    Catalog,
    SubscriberProfile,
    SubscriptionSpec,
    catalog_from,
    check_spec,
    make_target,
    parse_email,
    parse_frequency,
    parse_hour,
    parse_jurisdiction,
    parse_kinds,
    parse_language,
    parse_stages,
    parse_target,
    parse_timezone,
    parse_weekday,
)

FILE_NAME = "subscribers.toml"
ORIGIN = "config"
_SUBSCRIBER_KEYS = frozenset(
    {"email", "name", "affiliate", "language", "timezone", "frequency", "hour", "weekday",
     "follow"}
)
_FOLLOW_KEYS = frozenset({"bill", "topic", "jurisdiction", "within", "kinds", "stages"})


@dataclass(frozen=True, slots=True)
class SubscriberDeclaration:
    """One ``[[subscriber]]`` table, validated."""

    profile: SubscriberProfile
    follows: tuple[SubscriptionSpec, ...]


class _Where:
    """The file and dotted key a value came from, for one-line errors."""

    def __init__(self, path: Path, key: str) -> None:
        self.path, self.key = path, key

    def fail(self, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.key}: {problem}")

    def at(self, key: str) -> _Where:
        return _Where(self.path, f"{self.key}.{key}")


def _string(where: _Where, value: Any) -> str:
    if not isinstance(value, str):
        raise where.fail(f"must be a string, not {value!r}")
    return value


def _strings(where: _Where, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise where.fail(f"must be a list of non-empty strings, not {value!r}")
    return value


def _follow(where: _Where, value: Any, catalog: Catalog) -> SubscriptionSpec:
    try:
        if isinstance(value, str):
            return check_spec(SubscriptionSpec(parse_target(value)), catalog=catalog)
        if not isinstance(value, dict):
            raise where.fail(f"must be \"kind:value\" or a table, not {value!r}")
        unknown = sorted(set(value) - _FOLLOW_KEYS)
        if unknown:
            raise where.at(unknown[0]).fail(
                f"unknown key (known keys: {', '.join(sorted(_FOLLOW_KEYS))})"
            )
        kinds = [k for k in TargetKind if k.value in value]
        if len(kinds) != 1:
            raise where.fail("name exactly one of bill, topic or jurisdiction")
        kind = kinds[0]
        spec = SubscriptionSpec(
            make_target(kind, _string(where.at(kind.value), value[kind.value])),
            within=tuple(parse_jurisdiction(j)
                         for j in _strings(where.at("within"), value.get("within", []))),
            kinds=parse_kinds(_strings(where.at("kinds"), value.get("kinds", []))),
            stages=parse_stages(_strings(where.at("stages"), value.get("stages", []))),
        )
        return check_spec(spec, catalog=catalog)
    except InvalidSubscription as exc:
        raise where.fail(str(exc)) from None


def _profile(where: _Where, data: dict[str, Any]) -> SubscriberProfile:
    def text(key: str, default: str) -> str:
        return _string(where.at(key), data.get(key, default))

    try:
        if "email" not in data:
            raise where.at("email").fail("required")
        return SubscriberProfile(
            email=parse_email(text("email", "")),
            name=text("name", "").strip(),
            affiliate=text("affiliate", "").strip(),
            language=parse_language(text("language", "en")),
            timezone=parse_timezone(text("timezone", "America/New_York")),
            frequency=parse_frequency(text("frequency", "daily")),
            digest_hour=parse_hour(data.get("hour", 7)),
            digest_weekday=parse_weekday(text("weekday", "mon")),
        )
    except InvalidSubscription as exc:
        raise where.fail(str(exc)) from None


def parse_subscribers(
    data: Mapping[str, Any], *, path: Path, catalog: Catalog
) -> tuple[SubscriberDeclaration, ...]:
    """The declarations in a parsed ``subscribers.toml`` (see the module docstring)."""
    extra = sorted(set(data) - {"subscriber"})
    if extra:
        raise ConfigError(f"{path}: {extra[0]}: unknown key (expected [[subscriber]] tables)")
    tables = data.get("subscriber", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: subscriber: must be [[subscriber]] tables")
    declarations: list[SubscriberDeclaration] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables, start=1):
        where = _Where(path, f"subscriber[{index}]")
        if not isinstance(table, dict):
            raise where.fail("must be a table")
        unknown = sorted(set(table) - _SUBSCRIBER_KEYS)
        if unknown:
            raise where.at(unknown[0]).fail(
                f"unknown key (known keys: {', '.join(sorted(_SUBSCRIBER_KEYS))})"
            )
        profile = _profile(where, table)
        if profile.email in seen:
            raise where.at("email").fail(
                f"{profile.email} is declared already in subscriber[{seen[profile.email]}]"
            )
        seen[profile.email] = index
        follow = table.get("follow", [])
        if not isinstance(follow, list):
            raise where.at("follow").fail("must be a list")
        follows: list[SubscriptionSpec] = []
        for position, item in enumerate(follow, start=1):
            spec = _follow(where.at(f"follow[{position}]"), item, catalog)
            if any(f.target == spec.target for f in follows):
                raise where.at(f"follow[{position}]").fail(f"{spec.target} is followed twice")
            follows.append(spec)
        declarations.append(SubscriberDeclaration(profile, tuple(follows)))
    return tuple(declarations)


def read_subscribers(path: Path, *, catalog: Catalog) -> tuple[SubscriberDeclaration, ...]:
    """Read and validate ``path``; ConfigError names the file and key of any problem."""
    return parse_subscribers(read_toml(path), path=path, catalog=catalog)


@dataclass
class SyncReport:
    """What a sync changed. ``path`` is None when there was no file (nothing changed)."""

    path: Path | None
    subscribers: int = 0
    created: int = 0
    reactivated: int = 0
    updated: int = 0
    ended: int = 0
    kept_unsubscribed: list[str] = field(default_factory=list)
    unstored_bills: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        if self.path is None:
            return "subscribers.toml: none in the config folder; nothing synced"
        text = (f"{self.path}: {self.subscribers} subscribers; {self.created} subscriptions "
                f"created, {self.reactivated} reactivated, {self.updated} updated, "
                f"{self.ended} ended")
        if self.kept_unsubscribed:
            text += f"; unsubscribed by the person, kept so: {', '.join(self.kept_unsubscribed)}"
        if self.unstored_bills:
            text += f"; not stored yet: {', '.join(self.unstored_bills)}"
        return text


def apply_declarations(
    repo: Repository, declarations: Sequence[SubscriberDeclaration], *, path: Path,
    now: datetime,
) -> SyncReport:
    """Make the database say what ``declarations`` say, in one transaction."""
    report = SyncReport(path=path, subscribers=len(declarations))
    declared: set[tuple[str, str, str]] = set()
    with repo.write() as session:
        for declaration in declarations:
            subscriber = store.upsert_subscriber(session, declaration.profile, origin=ORIGIN,
                                                 now=now)
            for spec in declaration.follows:
                target = spec.target
                declared.add((subscriber.email, target.kind.value, target.value))
                _, outcome = store.add_subscription(
                    session, subscriber_id=subscriber.id, target_kind=target.kind.value,
                    target=target.value, jurisdictions=spec.within,
                    kinds=[k.value for k in spec.kinds], stages=[s.value for s in spec.stages],
                    origin=ORIGIN, now=now, override_unsubscribe=False,
                )
                if outcome == "kept-unsubscribed":
                    report.kept_unsubscribed.append(f"{subscriber.email} {target}")
                elif outcome in ("created", "reactivated", "updated"):
                    setattr(report, outcome, getattr(report, outcome) + 1)
                if target.kind is TargetKind.BILL and not store.bill_is_stored(session,
                                                                               target.value):
                    report.unstored_bills.append(str(target))
        for email, subscription in store.config_subscriptions(session):
            if (email, subscription.target_kind, subscription.target) not in declared:
                report.ended += store.end_subscriptions(
                    session, subscriber_id=subscription.subscriber_id, ended_by=ORIGIN,
                    now=now, ids=[subscription.id],
                )
    return report


def sync_subscribers(
    repo: Repository, settings: Settings, *, now: datetime | None = None,
    registry: Mapping[str, SourceFactory] | None = None,
) -> SyncReport:
    """Read ``subscribers.toml`` from the config folder and apply it (module docstring)."""
    path = settings.config_dir / FILE_NAME
    if not path.is_file():
        return SyncReport(path=None)
    catalog = catalog_from(settings, REGISTRY if registry is None else registry)
    declarations = read_subscribers(path, catalog=catalog)
    return apply_declarations(repo, declarations, path=path, now=now or datetime.now(UTC))
