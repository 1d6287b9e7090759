"""Putting hand-built digests into a real outbox for the sending tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from notifiers.outbox import enqueue
from notifiers.service import prepare_message
from tests.notifiers.digests import for_subscriber
from tracker.digest import Digest, Language
from tracker.errors import DigestConflict
from tracker.settings import MailSettings, Settings
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.storage.tables import OutboxMessageRow, OutboxRow
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


@dataclass
class ConflictOn(Marks):
    """Marks that conflict for one digest key only."""

    key: str = ""

    def __call__(self, session: Session, digest: Digest, *, now: datetime) -> None:
        if digest.digest_key == self.key:
            raise DigestConflict(f"{self.key} queued by another process")
        super().__call__(session, digest, now=now)


LANGUAGES = (Language.EN, Language.KO, Language.ES)


def queue_digests(repo: Repository, count: int, *, marks: Marks | None = None,
                  now: datetime = QUEUED_AT, queue: bool = True) -> list[Digest]:
    """``count`` subscribers (stored, in turn en/ko/es) with one queued daily digest each
    (with ``queue=False`` the digests only, queued by the caller)."""
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
        if queue:
            _, message = prepare_message(digest, settings=SETTINGS, key=KEY, now=now)
            enqueue(repo, digest, message, now=now, mark_queued=marks or Marks())
        digests.append(digest)
    return digests


@dataclass(frozen=True)
class StoredRow:
    """An outbox row as stored, with its message bytes (kept in ``outbox_messages``)."""

    id: int
    digest_key: str
    recipient: str
    message_id: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    claimed_at: datetime | None
    sent_at: datetime | None
    message: bytes


def rows(repo: Repository) -> list[StoredRow]:
    with repo.read() as session:
        found = session.execute(
            sa.select(OutboxRow, OutboxMessageRow.message)
            .join(OutboxMessageRow, OutboxMessageRow.outbox_id == OutboxRow.id)
            .order_by(OutboxRow.id)
        ).all()
    return [
        StoredRow(id=r.id, digest_key=r.digest_key, recipient=r.recipient,
                  message_id=r.message_id, subject=r.subject, status=r.status,
                  attempts=r.attempts, last_error=r.last_error, claimed_at=r.claimed_at,
                  sent_at=r.sent_at, message=message)
        for r, message in found
    ]
