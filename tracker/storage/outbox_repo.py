"""All SQL on the ``outbox`` table: queue a rendered message once, claim, mark.

A row's life: ``pending`` (queued, due at ``next_attempt_at``) -> ``sending`` (claimed by a
sender at ``claimed_at``, ``attempts`` counted) -> ``sent``, or back to ``pending`` with a later
``next_attempt_at`` (a temporary failure), or ``failed`` (permanent, or too many attempts).
A row left in ``sending`` by a crashed sender is claimed again once its claim is stale.

* :func:`queue_message` inserts with ON CONFLICT (digest_key) DO NOTHING (PostgreSQL and
  SQLite dialect inserts), so a digest rendered twice is queued once.
* :func:`claim_due` locks the rows it claims with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
  several senders never take the same row; SQLite serializes writers (``BEGIN IMMEDIATE``).
* The marks only touch rows still in ``sending``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, undefer

from tracker.storage.tables import OutboxRow

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A claimed row, with the message bytes to send."""

    id: int
    digest_key: str
    recipient: str
    message_id: str
    subject: str
    message: bytes
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxView:
    id: int
    digest_key: str
    kind: str
    recipient: str
    message_id: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


# Built once per dialect, the values bound at execution: building the statement per message
# cost more than running it.
_QUEUE = {
    name: insert(OutboxRow)
    .on_conflict_do_nothing(index_elements=[OutboxRow.digest_key])
    .returning(OutboxRow.id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def queue_message(
    session: Session,
    *,
    digest_key: str,
    subscriber_id: int | None,
    kind: str,
    recipient: str,
    message_id: str,
    subject: str,
    message: bytes,
    now: datetime,
) -> bool:
    """Queue a message for ``digest_key``; False (and nothing written) when one is queued."""
    values = {
        "digest_key": digest_key, "subscriber_id": subscriber_id, "kind": kind,
        "recipient": recipient, "message_id": message_id, "subject": subject,
        "message": message, "status": PENDING, "attempts": 0, "next_attempt_at": now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        return session.execute(_QUEUE[dialect], values).scalar() is not None
    # Other databases: check, then insert (the unique key still refuses a duplicate).
    exists = session.execute(
        sa.select(OutboxRow.id).where(OutboxRow.digest_key == digest_key)
    ).first()
    if exists:
        return False
    session.execute(sa.insert(OutboxRow).values(**values))
    return True


def claim_due(
    session: Session,
    *,
    now: datetime,
    stale_before: datetime,
    limit: int,
    ignore_schedule: bool = False,
    after_id: int = 0,
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` rows: pending and due (any pending one with ``ignore_schedule``),
    or left in ``sending`` since before ``stale_before``; oldest first, only ids above
    ``after_id`` (a sender walking the outbox once). Counts an attempt."""
    pending = OutboxRow.status == PENDING
    if not ignore_schedule:
        pending = sa.and_(pending, OutboxRow.next_attempt_at <= now)
    stale = sa.and_(OutboxRow.status == SENDING, OutboxRow.claimed_at < stale_before)
    query = (
        sa.select(OutboxRow)
        .where(sa.or_(pending, stale), OutboxRow.id > after_id)
        .order_by(OutboxRow.id)
        .limit(limit)
        .options(undefer(OutboxRow.message))
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(query).scalars().all()
    claimed = []
    for row in rows:
        row.status, row.claimed_at, row.attempts = SENDING, now, row.attempts + 1
        claimed.append(ClaimedMessage(
            id=row.id, digest_key=row.digest_key, recipient=row.recipient,
            message_id=row.message_id, subject=row.subject, message=row.message,
            attempts=row.attempts, created_at=row.created_at,
        ))
    return claimed


def _sending(outbox_id: int) -> sa.Update:
    return sa.update(OutboxRow).where(OutboxRow.id == outbox_id, OutboxRow.status == SENDING)


def mark_sent(session: Session, outbox_id: int, *, now: datetime) -> None:
    session.execute(_sending(outbox_id).values(status=SENT, sent_at=now, last_error=None))


def mark_retry(
    session: Session, outbox_id: int, *, error: str, next_attempt_at: datetime
) -> None:
    session.execute(_sending(outbox_id).values(status=PENDING, last_error=error,
                                               next_attempt_at=next_attempt_at))


def mark_failed(session: Session, outbox_id: int, *, error: str) -> None:
    session.execute(_sending(outbox_id).values(status=FAILED, last_error=error))


def release(
    session: Session, outbox_ids: Sequence[int], *, error: str, next_attempt_at: datetime
) -> None:
    """Give claimed rows back untried: pending again, their attempt not counted."""
    if not outbox_ids:
        return
    session.execute(
        sa.update(OutboxRow)
        .where(OutboxRow.id.in_(list(outbox_ids)), OutboxRow.status == SENDING)
        .values(status=PENDING, attempts=OutboxRow.attempts - 1, last_error=error,
                next_attempt_at=next_attempt_at)
    )


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        sa.select(OutboxRow.status, sa.func.count()).group_by(OutboxRow.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts


def list_messages(
    session: Session, *, status: str | None = None, limit: int = 200
) -> list[OutboxView]:
    query = sa.select(OutboxRow).order_by(OutboxRow.id).limit(limit)
    if status:
        query = query.where(OutboxRow.status == status)
    return [
        OutboxView(
            id=r.id, digest_key=r.digest_key, kind=r.kind, recipient=r.recipient,
            message_id=r.message_id, subject=r.subject, status=r.status, attempts=r.attempts,
            next_attempt_at=r.next_attempt_at, last_error=r.last_error,
            created_at=r.created_at, sent_at=r.sent_at,
        )
        for r in session.execute(query).scalars()
    ]
