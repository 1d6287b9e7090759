"""Builders for subscription tests: stored bills, topic matches, subscribers and what they
follow, through the real repository functions (no SQL of their own except reading back)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa

from tracker.digest import Frequency, Language, MatchedTerm
from tracker.models import Bill
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext, SourceInfo
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.storage.tables import DeliveryRow
from tracker.subscriptions import SubscriberProfile, parse_target
from tracker.topics import TopicMatch

#: A Monday morning in Virginia's 2020 session (14:00 UTC is 9:00 in New York).
T0 = datetime(2020, 2, 3, 14, 0, tzinfo=UTC)


class VirginiaSource:
    """A registered source covering ``va``, for catalogs and freshness lines (never polled)."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name="test-va", title="Virginia (test)", jurisdictions=("va",),
        homepage="https://lis.test", default_origin="https://lis.test",
        min_interval=timedelta(0),
    )

    def __init__(self, context: SourceContext) -> None:
        self.context = context


class CongressSource:
    info: ClassVar[SourceInfo] = SourceInfo(
        name="test-us", title="Congress (test)", jurisdictions=("us",),
        homepage="https://congress.test", default_origin="https://congress.test",
        min_interval=timedelta(0),
    )

    def __init__(self, context: SourceContext) -> None:
        self.context = context


REGISTRY: Mapping[str, Any] = {"test-va": VirginiaSource, "test-us": CongressSource}


def settings(tmp_path: Path, *, max_failures: int = 3) -> Settings:
    return Settings(
        config_dir=tmp_path, database_url="sqlite://",
        sources={
            "test-va": SourceSettings(name="test-va", enabled=True, sessions=("2020",),
                                      max_failures=max_failures),
            "test-us": SourceSettings(name="test-us", enabled=True, sessions=("116",),
                                      max_failures=max_failures),
        },
    )


def store_bill(repo: Repository, bill: Bill, *, at: datetime, baseline: bool = False) -> int:
    with repo.write() as session:
        return repo.upsert_bill(session, bill, baseline=baseline, run_id=None, now=at).bill_id


def set_topics(
    repo: Repository, bill_id: int, topics: Mapping[str, Sequence[tuple[str, str]]], *,
    at: datetime = T0,
) -> None:
    """Store ``{topic: [(term, field), ...]}`` as the bill's topic matches."""
    matches = [TopicMatch(topic, tuple(MatchedTerm(t, f) for t, f in terms))
               for topic, terms in topics.items()]
    with repo.write() as session:
        repo.replace_topic_matches(session, bill_id, matches, now=at)


def add_subscriber(
    repo: Repository, email: str, *, frequency: Frequency = Frequency.DAILY,
    timezone: str = "America/New_York", hour: int = 7, weekday: int = 0,
    language: Language = Language.EN, at: datetime = T0, origin: str = "cli",
) -> int:
    profile = SubscriberProfile(email=email, name=email.split("@")[0], language=language,
                                timezone=timezone, frequency=frequency, digest_hour=hour,
                                digest_weekday=weekday)
    with repo.write() as session:
        return store.upsert_subscriber(session, profile, origin=origin, now=at).id


def follow(
    repo: Repository, subscriber_id: int, target: str, *, within: Sequence[str] = (),
    kinds: Sequence[str] = (), stages: Sequence[str] = (), at: datetime = T0,
    origin: str = "cli",
) -> int:
    """Subscribe to ``target`` (``"topic:hate-crimes"``); returns the subscription id."""
    parsed = parse_target(target)
    with repo.write() as session:
        view, _ = store.add_subscription(
            session, subscriber_id=subscriber_id, target_kind=parsed.kind.value,
            target=parsed.value, jurisdictions=within, kinds=kinds, stages=stages,
            origin=origin, now=at,
        )
    return view.id


@dataclass(frozen=True)
class Delivered:
    event_id: int
    subscriber_id: int
    subscription_ids: list[int]
    reasons: list[dict[str, Any]]
    status: str
    digest_key: str | None


def deliveries(repo: Repository) -> list[Delivered]:
    with repo.read() as session:
        rows = session.execute(
            sa.select(DeliveryRow).order_by(DeliveryRow.event_id, DeliveryRow.subscriber_id)
        ).scalars()
        return [Delivered(r.event_id, r.subscriber_id, list(r.subscription_ids),
                          list(r.reasons), r.status, r.digest_key) for r in rows]
