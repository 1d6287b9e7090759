"""Putting hand-built digests into a real outbox for the sending tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, undefer

from notifiers.outbox import enqueue
from notifiers.service import prepare_message
from tests.notifiers.digests import for_subscriber
from tracker.digest import Digest, Language
from tracker.settings import MailSettings, Settings
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.storage.tables import OutboxRow
from tracker.subscriptions import SubscriberProfile

QUEUED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = b"k" * 32
SETTINGS = Settings(config_dir=Path("."), database_url="", sources={},
                    mail=MailSettings(public_url="https://tracker.example.org",
                                      mail_from="alerts@tracker.example.org"))


@dataclass
class Marks:
    """A stand-in for tracker.digest.mark_queued that records what it was asked to mark."""

    keys: list[str] = field(default_factory=list)
    fail_with: Exception | None = None

    def __call__(self, session: Session, digest: Digest, *, now: datetime) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.keys.append(digest.digest_key)


LANGUAGES = (Language.EN, Language.KO, Language.ES)


def queue_digests(repo: Repository, count: int, *, marks: Marks | None = None,
                  now: datetime = QUEUED_AT) -> list[Digest]:
    """``count`` subscribers (stored, in turn en/ko/es) with one queued daily digest each."""
    digests = []
    with repo.write() as session:
        ids = [
            store.upsert_subscriber(
                session,
                SubscriberProfile(email=f"sub{n}@example.org", name=f"Subscriber {n}",
                                  language=LANGUAGES[n % 3]),
                origin="cli", now=now,
            ).id
            for n in range(count)
        ]
    for n, subscriber_id in enumerate(ids):
        digest = for_subscriber(subscriber_id, language=LANGUAGES[n % 3],
                                email=f"sub{n}@example.org")
        _, message = prepare_message(digest, settings=SETTINGS, key=KEY, now=now)
        enqueue(repo, digest, message, now=now, mark_queued=marks or Marks())
        digests.append(digest)
    return digests


def rows(repo: Repository) -> list[OutboxRow]:
    with repo.read() as session:
        return list(session.execute(
            sa.select(OutboxRow).order_by(OutboxRow.id).options(undefer(OutboxRow.message))
        ).scalars())
