"""Who receives which change: the rules for subscribers and subscriptions, as pure functions.

A subscriber has an email address (stored lower-cased), a name and affiliate, a language
(``en``, ``ko``, ``es``), an IANA timezone, a frequency (``instant``, ``daily``, ``weekly``) and
the local hour (and weekday) of their digest. A subscription follows one target, written
``kind:value``:

* ``bill:va/2020/HB 565``: one bill, by its key (the identifier may be written loosely);
* ``topic:drivers-licenses``: every bill that matches a configured topic, optionally only
  ``within`` some jurisdictions;
* ``jurisdiction:va``: every bill of a jurisdiction some registered source covers (or ``us``).

Optionally only some change kinds (``kinds``: ``new-action``, ``stage-change`` ...) or only
changes that leave the bill at some stages (``stages``) reach the subscriber.

Everything read from people (the CLI, ``subscribers.toml``) goes through the ``parse_*``
functions here; a value that cannot be used raises :class:`InvalidSubscription` with one line
naming the value and what would be accepted. :func:`matches` decides whether one change
concerns one subscription and, if so, says why (a :class:`~tracker.digest.Reason`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.changes import ChangeKind
from tracker.digest import Frequency, Language, MatchedTerm, Reason, TargetKind
from tracker.errors import InvalidBillKey, InvalidSubscription
from tracker.models import BillKey, Stage
from tracker.settings import Settings
from tracker.source import SourceFactory

# --- subscriber fields --------------------------------------------------------------------------

# A practical subset of RFC 5321 that every mail system accepts: dot-atom local part, a domain
# of LDH labels with a top-level label of letters (or an IDNA ``xn--`` label).
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})$")
_MAX_EMAIL = 254  # RFC 5321 path limit, less the angle brackets

_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS: tuple[str, ...] = tuple(name[:3] for name in _WEEKDAY_NAMES)


def parse_email(text: str) -> str:
    """``" Mi-Young.Kim@Example.ORG "`` -> ``"mi-young.kim@example.org"``; refuses anything else."""
    address = text.strip().lower()
    if len(address) > _MAX_EMAIL or not _EMAIL.match(address):
        raise InvalidSubscription(
            f"not an email address: {text!r} (expected e.g. name@example.org)"
        )
    return address


def _one_of(kind: str, text: str, choices: Iterable[str]) -> str:
    options = list(choices)
    value = text.strip().lower()
    if value not in options:
        raise InvalidSubscription(f"{kind} {text!r} is not offered (one of: {', '.join(options)})")
    return value


def parse_language(text: str) -> Language:
    return Language(_one_of("language", text, (lang.value for lang in Language)))


def parse_frequency(text: str) -> Frequency:
    return Frequency(_one_of("frequency", text, (f.value for f in Frequency)))


def parse_timezone(text: str) -> str:
    """An IANA timezone name known to zoneinfo (``America/Chicago``), returned as given."""
    name = text.strip()
    try:
        # ZoneInfo also accepts file paths on some systems; a name never starts with "/" or ".".
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSubscription(
            f"unknown timezone {text!r} (use an IANA name such as America/New_York)"
        ) from None
    return name


def parse_hour(value: int) -> int:
    """The local hour of a digest, 0 to 23."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        raise InvalidSubscription(f"digest hour {value!r} must be a whole hour from 0 to 23")
    return value


def parse_weekday(text: str) -> int:
    """``"mon"``, ``"Monday"`` (any prefix of three letters or more) .. ``"sun"`` -> 0..6, as
    ``date.weekday()`` counts."""
    word = text.strip().lower()
    for index, name in enumerate(_WEEKDAY_NAMES):
        if len(word) >= 3 and name.startswith(word):
            return index
    raise InvalidSubscription(f"weekday {text!r} is not one of {', '.join(WEEKDAYS)}")


def parse_kinds(texts: Iterable[str]) -> tuple[ChangeKind, ...]:
    known = [k.value for k in ChangeKind]
    return tuple(dict.fromkeys(ChangeKind(_one_of("change kind", t, known)) for t in texts))


def parse_stages(texts: Iterable[str]) -> tuple[Stage, ...]:
    known = [s.value for s in Stage]
    return tuple(dict.fromkeys(Stage(_one_of("stage", t, known)) for t in texts))


@dataclass(frozen=True, slots=True)
class SubscriberProfile:
    """Everything a subscriber chose, validated. ``digest_weekday`` counts Monday as 0."""

    email: str
    name: str = ""
    affiliate: str = ""
    language: Language = Language.EN
    timezone: str = "America/New_York"
    frequency: Frequency = Frequency.DAILY
    digest_hour: int = 7
    digest_weekday: int = 0

    def __post_init__(self) -> None:
        # Names and affiliates end up in mail headers and pages: one line, bounded.
        for label, value, limit in (("name", self.name, 200), ("affiliate", self.affiliate, 100)):
            if len(value) > limit or any(c in value for c in "\r\n\t\x00"):
                raise InvalidSubscription(
                    f"{label} {value[:40]!r} must be one line of at most {limit} characters"
                )


# --- targets ------------------------------------------------------------------------------------

_JURISDICTION = re.compile(r"^[a-z]{2}$")
_TOPIC_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Target:
    """What a subscription follows; ``str()`` gives ``kind:value`` (``topic:hate-crimes``)."""

    kind: TargetKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"


def parse_jurisdiction(text: str) -> str:
    code = text.strip().lower()
    if not _JURISDICTION.match(code):
        raise InvalidSubscription(f"jurisdiction {text!r} must be a two-letter code such as va")
    return code


def make_target(kind: TargetKind, value: str) -> Target:
    """A target with its value in canonical form (bill keys normalized, codes lower-cased)."""
    if kind is TargetKind.BILL:
        try:
            return Target(kind, str(BillKey.parse(value)))
        except InvalidBillKey as exc:
            raise InvalidSubscription(f"bill {value!r}: {exc}") from None
    if kind is TargetKind.JURISDICTION:
        return Target(kind, parse_jurisdiction(value))
    topic = value.strip().lower()
    if not _TOPIC_ID.match(topic):
        raise InvalidSubscription(f"topic {value!r} is not a topic id (e.g. drivers-licenses)")
    return Target(kind, topic)


def parse_target(text: str) -> Target:
    """``"topic:drivers-licenses"``, ``"bill:va/2020/HB 565"``, ``"jurisdiction:tx"``."""
    kind_text, sep, value = text.partition(":")
    kinds = [k.value for k in TargetKind]
    if not sep or kind_text.strip().lower() not in kinds:
        raise InvalidSubscription(
            f"follow {text!r} must be written kind:value with kind one of {', '.join(kinds)} "
            "(e.g. topic:drivers-licenses, bill:va/2020/HB 565, jurisdiction:tx)"
        )
    return make_target(TargetKind(kind_text.strip().lower()), value)


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """What a person asks to follow, validated in form (see :func:`check_spec` for content)."""

    target: Target
    within: tuple[str, ...] = ()
    kinds: tuple[ChangeKind, ...] = ()
    stages: tuple[Stage, ...] = ()

    def __post_init__(self) -> None:
        if self.within and self.target.kind is not TargetKind.TOPIC:
            raise InvalidSubscription(
                f"{self.target}: 'within' narrows a topic to jurisdictions; it does not apply "
                f"to a {self.target.kind.value}"
            )


@dataclass(frozen=True, slots=True)
class Catalog:
    """What targets may name: the configured topic ids and the jurisdictions sources cover."""

    topics: frozenset[str]
    jurisdictions: frozenset[str]


def catalog_from(settings: Settings, registry: Mapping[str, SourceFactory]) -> Catalog:
    """The configured topics, and the jurisdictions the registered sources cover plus ``us``."""
    covered = {code for factory in registry.values() for code in factory.info.jurisdictions}
    return Catalog(topics=frozenset(topic.id for topic in settings.topics),
                   jurisdictions=frozenset(covered | {"us"}))


def _check_jurisdiction(code: str, catalog: Catalog, *, what: str) -> None:
    if code not in catalog.jurisdictions:
        known = ", ".join(sorted(catalog.jurisdictions))
        raise InvalidSubscription(
            f"{what}: no source covers jurisdiction {code!r} (covered: {known})"
        )


def check_spec(spec: SubscriptionSpec, *, catalog: Catalog) -> SubscriptionSpec:
    """Refuse a topic that is not configured and jurisdictions no source covers.

    Whether a followed bill is stored is checked by the caller, against the database.
    """
    target = spec.target
    if target.kind is TargetKind.TOPIC and target.value not in catalog.topics:
        known = ", ".join(sorted(catalog.topics)) or "none are configured"
        raise InvalidSubscription(f"unknown topic {target.value!r} (topics: {known})")
    if target.kind is TargetKind.JURISDICTION:
        _check_jurisdiction(target.value, catalog, what=str(target))
    if target.kind is TargetKind.BILL:
        _check_jurisdiction(target.value.split("/", 1)[0], catalog, what=str(target))
    for code in spec.within:
        _check_jurisdiction(code, catalog, what=f"{target} within {code}")
    return spec


# --- routing rules ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscription:
    """A stored subscription as routing reads it."""

    id: int
    subscriber_id: int
    spec: SubscriptionSpec
    active: bool
    active_since: datetime


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What routing needs of one stored change (``details`` as ``tracker.changes`` wrote them)."""

    id: int
    kind: ChangeKind
    detected_at: datetime
    baseline: bool
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BillFacts:
    """What routing needs of the bill a change belongs to (its stage as stored now)."""

    key: BillKey
    stage: Stage


_STAGE_VALUES = frozenset(stage.value for stage in Stage)

#: Topic id -> the terms (and fields) that made the bill match it.
TopicMatches = Mapping[str, tuple[MatchedTerm, ...]]


def stage_after(event: EventFacts, bill: BillFacts) -> Stage:
    """The stage the change left the bill at: a stage change's ``to``, a new bill's stage,
    else the bill's current stage."""
    field = {ChangeKind.STAGE_CHANGE: "to", ChangeKind.NEW_BILL: "stage"}.get(event.kind)
    value = event.details.get(field) if field else None
    return Stage(value) if value in _STAGE_VALUES else bill.stage


def target_reason(
    subscription: Subscription, bill: BillFacts, topic_matches: TopicMatches
) -> Reason | None:
    """Why ``bill`` falls under the subscription's target, or None when it does not."""
    spec = subscription.spec
    target = spec.target
    if target.kind is TargetKind.BILL:
        if target.value != str(bill.key):
            return None
        return Reason(subscription.id, TargetKind.BILL, target.value)
    if target.kind is TargetKind.JURISDICTION:
        if target.value != bill.key.jurisdiction:
            return None
        return Reason(subscription.id, TargetKind.JURISDICTION, target.value)
    terms = topic_matches.get(target.value)
    if terms is None or (spec.within and bill.key.jurisdiction not in spec.within):
        return None
    return Reason(subscription.id, TargetKind.TOPIC, target.value, topic=target.value,
                  matched=terms)


def matches(
    subscription: Subscription, event: EventFacts, bill: BillFacts, topic_matches: TopicMatches
) -> Reason | None:
    """The reason ``event`` (a change of ``bill``) reaches the subscription, or None.

    None for a baseline change (a first poll tells no one), for an inactive subscription,
    for a change detected before the subscription became active (its welcome digest tells
    the state then), when the bill is not under the target, and when the ``kinds`` or
    ``stages`` filters leave the change out.
    """
    if event.baseline or not subscription.active or event.detected_at < subscription.active_since:
        return None
    reason = target_reason(subscription, bill, topic_matches)
    if reason is None:
        return None
    spec = subscription.spec
    if spec.kinds and event.kind not in spec.kinds:
        return None
    if spec.stages and stage_after(event, bill) not in spec.stages:
        return None
    return reason
