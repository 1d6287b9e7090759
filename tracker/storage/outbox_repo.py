"""All SQL on the ``outbox`` tables: queue a rendered message once, claim, mark.

A row's life: ``pending`` (queued, due at ``next_attempt_at``) -> ``sending`` (claimed by a
sender at ``claimed_at``, ``attempts`` counted) -> ``sent``, or back to ``pending`` with a later
``next_attempt_at`` (a temporary failure), or ``failed`` (permanent, or too many attempts).
A row left in ``sending`` by a crashed sender is claimed again once its claim is stale.

* :func:`queue_message` inserts with ON CONFLICT (digest_key) DO NOTHING (PostgreSQL and
  SQLite dialect inserts), so a digest rendered twice is queued once.
* :func:`claim_due` locks the rows it claims with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
  several senders never take the same row; SQLite serializes writers (``BEGIN IMMEDIATE``).
* The marks only touch rows still in ``sending``.
* The message bytes live in ``outbox_messages``, written once by :func:`queue_message` and
  only read after that: the claims and marks rewrite the small ``outbox`` row alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from tracker.storage.tables import Base, OutboxMessageRow, OutboxRow

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


_OUTBOX = Base.metadata.tables[OutboxRow.__tablename__]
_MESSAGES = Base.metadata.tables[OutboxMessageRow.__tablename__]

# Statements are built once, their values bound at execution: building one per message cost
# more than running it. They are Core statements on the tables, not ORM ones, for the same
# reason (the ORM's bulk path weighed more than the statement).
_QUEUE = {
    name: insert(_OUTBOX)
    .on_conflict_do_nothing(index_elements=[_OUTBOX.c.digest_key])
    .returning(_OUTBOX.c.id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_STORE_MESSAGE = sa.insert(_MESSAGES)


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
    """Queue a message for ``digest_key``; False (and nothing written) when one is queued.
    The bytes go to ``outbox_messages``, in the same transaction."""
    values = {
        "digest_key": digest_key, "subscriber_id": subscriber_id, "kind": kind,
        "recipient": recipient, "message_id": message_id, "subject": subject,
        "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now,
    }
    outbox_id = _insert_once(session, values)
    if outbox_id is None:
        return False
    session.execute(_STORE_MESSAGE, {"outbox_id": outbox_id, "message": message})
    return True


def _insert_once(session: Session, values: Mapping[str, object]) -> int | None:
    """Insert the outbox row; its id, or None when its digest key is queued already."""
    dialect = session.get_bind().dialect.name
    if dialect in _QUEUE:
        found = session.execute(_QUEUE[dialect], values).scalar()
        return None if found is None else int(found)
    # Other databases: check, then insert (the unique key still refuses a duplicate).
    exists = session.execute(
        sa.select(_OUTBOX.c.id).where(_OUTBOX.c.digest_key == values["digest_key"])
    ).first()
    if exists:
        return None
    inserted = cast(CursorResult[Any], session.execute(sa.insert(_OUTBOX).values(**values)))
    key = inserted.inserted_primary_key
    return None if key is None else int(key[0])


_CLAIMABLE = (
    sa.select(_OUTBOX.c.id, _OUTBOX.c.digest_key, _OUTBOX.c.recipient, _OUTBOX.c.message_id,
              _OUTBOX.c.subject, _OUTBOX.c.attempts, _OUTBOX.c.created_at, _MESSAGES.c.message)
    .join(_MESSAGES, _MESSAGES.c.outbox_id == _OUTBOX.c.id)
)
_CLAIM = (
    sa.update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(status=SENDING, claimed_at=sa.bindparam("now"), attempts=_OUTBOX.c.attempts + 1)
)


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
    pending = _OUTBOX.c.status == PENDING
    if not ignore_schedule:
        pending = sa.and_(pending, _OUTBOX.c.next_attempt_at <= now)
    stale = sa.and_(_OUTBOX.c.status == SENDING, _OUTBOX.c.claimed_at < stale_before)
    query = (
        _CLAIMABLE
        .where(sa.or_(pending, stale), _OUTBOX.c.id > after_id)
        .order_by(_OUTBOX.c.id)
        .limit(limit)
        # Only the outbox rows are locked: the messages are never written after queueing.
        .with_for_update(skip_locked=True, of=_OUTBOX)
    )
    rows = session.execute(query).all()
    if rows:
        session.execute(_CLAIM, {"ids": [row.id for row in rows], "now": now})
    return [
        ClaimedMessage(
            id=row.id, digest_key=row.digest_key, recipient=row.recipient,
            message_id=row.message_id, subject=row.subject, message=row.message,
            attempts=row.attempts + 1, created_at=row.created_at,
        )
        for row in rows
    ]


def _mark(**values: object) -> sa.Update:
    """An update of one row still in ``sending`` (bound: ``outbox_id``)."""
    return (
        sa.update(_OUTBOX)
        .where(_OUTBOX.c.id == sa.bindparam("outbox_id"), _OUTBOX.c.status == SENDING)
        .values(**values)
    )


_SENT = _mark(status=SENT, sent_at=sa.bindparam("now"), last_error=None)
_RETRY = _mark(status=PENDING, last_error=sa.bindparam("error"),
               next_attempt_at=sa.bindparam("next_attempt_at"))
_FAILED = _mark(status=FAILED, last_error=sa.bindparam("error"))


def mark_sent(session: Session, outbox_id: int, *, now: datetime) -> None:
    session.execute(_SENT, {"outbox_id": outbox_id, "now": now})


def mark_retry(
    session: Session, outbox_id: int, *, error: str, next_attempt_at: datetime
) -> None:
    session.execute(_RETRY, {"outbox_id": outbox_id, "error": error,
                             "next_attempt_at": next_attempt_at})


def mark_failed(session: Session, outbox_id: int, *, error: str) -> None:
    session.execute(_FAILED, {"outbox_id": outbox_id, "error": error})


def release(
    session: Session, outbox_ids: Sequence[int], *, error: str, next_attempt_at: datetime
) -> None:
    """Give claimed rows back untried: pending again, their attempt not counted."""
    if not outbox_ids:
        return
    session.execute(
        sa.update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(list(outbox_ids)), _OUTBOX.c.status == SENDING)
        .values(status=PENDING, attempts=_OUTBOX.c.attempts - 1, last_error=error,
                next_attempt_at=next_attempt_at)
    )


def message_of(session: Session, outbox_id: int) -> bytes | None:
    """The stored bytes of one outbox message (None: no such message)."""
    found = session.execute(
        sa.select(_MESSAGES.c.message).where(_MESSAGES.c.outbox_id == outbox_id)
    ).scalar()
    return None if found is None else bytes(found)


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
