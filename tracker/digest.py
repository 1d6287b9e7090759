"""What a digest says, as plain values: built from routed events, rendered by ``notifiers``.

A :class:`Digest` is everything one subscriber is told in one message: the changes since their
last digest, grouped by jurisdiction and topic, each bill with its stage, what changed, and
the reasons it reached them ("you are seeing this because ..."), plus a freshness line per
source. Every text from upstream (titles, action descriptions) is carried raw here and escaped
by the renderer; nothing here is markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from tracker.changes import ChangeKind
from tracker.models import Stage


class Language(StrEnum):
    EN = "en"
    KO = "ko"
    ES = "es"


class Frequency(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


class TargetKind(StrEnum):
    BILL = "bill"
    TOPIC = "topic"
    JURISDICTION = "jurisdiction"


class DigestKind(StrEnum):
    DIGEST = "digest"  # a daily or weekly digest of changes
    ALERT = "alert"  # an instant alert for an advocacy moment
    WELCOME = "welcome"  # a new subscription's first message: the current state
    OPERATOR = "operator"  # a source-health alert for operators


@dataclass(frozen=True, slots=True)
class Recipient:
    subscriber_id: int
    email: str
    name: str
    language: Language
    timezone: str


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    term: str
    field: str


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an item reached the subscriber: which subscription, and for topics which terms."""

    subscription_id: int
    target_kind: TargetKind
    target: str
    topic: str | None = None
    matched: tuple[MatchedTerm, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeLine:
    """One change of one bill, as the digest tells it."""

    event_id: int
    kind: ChangeKind
    detected_at: datetime
    date: date | None = None
    text: str = ""
    from_stage: Stage | None = None
    to_stage: Stage | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class DigestItem:
    bill_key: str
    jurisdiction: str
    identifier: str
    title: str
    stage: Stage
    url: str | None
    changes: tuple[ChangeLine, ...]
    reasons: tuple[Reason, ...]
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DigestGroup:
    jurisdiction: str
    topic: str | None
    items: tuple[DigestItem, ...]


@dataclass(frozen=True, slots=True)
class Freshness:
    """One source's health as the digest footer states it."""

    source: str
    jurisdictions: tuple[str, ...]
    last_success: datetime | None
    failing_since: datetime | None
    healthy: bool


@dataclass(frozen=True, slots=True)
class Digest:
    """One message to one subscriber. ``digest_key`` is stable: it makes sending idempotent."""

    digest_key: str
    kind: DigestKind
    recipient: Recipient
    frequency: Frequency
    period_start: datetime | None
    period_end: datetime
    groups: tuple[DigestGroup, ...]
    event_ids: tuple[int, ...]
    freshness: tuple[Freshness, ...]
    total_items: int
    shown_items: int
    subscription_ids: tuple[int, ...]
