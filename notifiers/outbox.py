"""The outbox: queue each rendered digest exactly once, then send what is due.

Delivery is **at least once, with a stable Message-ID**; no digest is ever lost:

* :func:`enqueue` puts the rendered message in the ``outbox`` table and marks the digest's
  deliveries queued (``mark_queued``) in the same transaction: either both happen or neither,
  and a digest key already queued is not queued again. :func:`enqueue_page` does that for a
  page of digests in one transaction (one commit instead of one per digest); when one of them
  fails, that transaction is rolled back and each digest is queued in a transaction of its
  own, so a failure costs only its own digest.
* :func:`send_pending` claims due rows (``sending``, attempt counted), sends them one by one
  over one connection per batch, and marks each ``sent`` right after the server accepted it.
  A 4xx reply, a dropped connection or a timeout puts the row back to ``pending`` with an
  exponential backoff; a 5xx marks that one ``failed`` and the others go on; after
  ``max_attempts`` a row is ``failed``. A connection lost mid-batch is reopened for the next
  message, so the ones already marked ``sent`` are never sent again.
* A crash between the server's acceptance and the ``sent`` mark leaves the row in ``sending``;
  once that claim is older than ``stale_after`` it is claimed and sent again, with the same
  bytes and Message-ID. That is the one duplicate possible, and receiving clients (and our
  logs) recognise it by its Message-ID.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from typing import Protocol

from sqlalchemy.orm import Session

from notifiers.email import BuiltMessage
from notifiers.transport import (
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    TransportUnavailable,
)
from tracker.digest import Digest
from tracker.errors import TrackerError
from tracker.storage import outbox_repo
from tracker.storage.outbox_repo import ClaimedMessage
from tracker.storage.repository import Repository

log = logging.getLogger(__name__)


class MarkQueued(Protocol):
    """``tracker.digest.mark_queued``: marks the digest's deliveries queued, in ``session``."""

    def __call__(self, session: Session, digest: Digest, *, now: datetime) -> object: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long a temporarily refused message is tried again."""

    max_attempts: int = 6
    first_delay: timedelta = timedelta(minutes=5)
    max_delay: timedelta = timedelta(hours=6)
    stale_after: timedelta = timedelta(minutes=10)
    batch_size: int = 50

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.batch_size < 1:
            raise ValueError("max_attempts and batch_size must be at least 1")
        if self.first_delay <= timedelta(0) or self.stale_after <= timedelta(0):
            raise ValueError("first_delay and stale_after must be longer than zero")

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: 5 min, 10, 20 ... up to 6 h."""
        doubled: timedelta = self.first_delay * (2 ** max(0, attempts - 1))
        return min(self.max_delay, doubled)


def enqueue(
    repo: Repository,
    digest: Digest,
    message: BuiltMessage,
    *,
    now: datetime,
    mark_queued: MarkQueued,
) -> bool:
    """Queue ``message`` for ``digest`` and mark its deliveries, in one transaction.

    Returns False when a message for this digest key was queued before; then nothing is
    written and ``mark_queued`` is not called (its deliveries were marked with that message).
    """
    with repo.write() as session:
        return _queue(session, digest, message, now=now, mark_queued=mark_queued)


def _queue(
    session: Session, digest: Digest, message: BuiltMessage, *, now: datetime,
    mark_queued: MarkQueued,
) -> bool:
    queued = outbox_repo.queue_message(
        session,
        digest_key=digest.digest_key,
        subscriber_id=digest.recipient.subscriber_id or None,
        kind=digest.kind.value,
        recipient=digest.recipient.email,
        message_id=message.message_id,
        subject=message.subject,
        message=message.raw,
        now=now,
    )
    if queued:
        mark_queued(session, digest, now=now)
    return queued


#: What :func:`enqueue_page` says of each digest: whether it was newly queued, or the error
#: that kept it out of the outbox.
Queued = bool | TrackerError


def enqueue_page(
    repo: Repository,
    page: Sequence[tuple[Digest, BuiltMessage]],
    *,
    now: datetime,
    mark_queued: MarkQueued,
) -> list[Queued]:
    """:func:`enqueue` for each of ``page``, in one transaction while all goes well.

    A TrackerError (a DigestConflict with another process, say) rolls that transaction back;
    then each digest is queued in its own, so the others still go out. ``mark_queued`` may
    thus be called twice for a digest, the first call rolled back. Other errors propagate,
    with nothing of the page written (its deliveries stay pending for the next run).
    """
    try:
        with repo.write() as session:
            return [_queue(session, digest, message, now=now, mark_queued=mark_queued)
                    for digest, message in page]
    except TrackerError as exc:
        if len(page) == 1:
            return [exc]
    return [_queued_alone(repo, digest, message, now=now, mark_queued=mark_queued)
            for digest, message in page]


def _queued_alone(
    repo: Repository, digest: Digest, message: BuiltMessage, *, now: datetime,
    mark_queued: MarkQueued,
) -> Queued:
    try:
        return enqueue(repo, digest, message, now=now, mark_queued=mark_queued)
    except TrackerError as exc:
        return exc


# --- sending -----------------------------------------------------------------------------------

SENT, DEFERRED, FAILED, WAITING = "sent", "deferred", "failed", "waiting"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one message in this run. ``detail``: the .eml path or server reply
    when sent, the reason otherwise."""

    digest_key: str
    recipient: str
    subject: str
    message_id: str
    status: str  # sent | deferred (retried later) | failed | waiting (transport unavailable)
    detail: str
    attempts: int
    retry_at: datetime | None = None


@dataclass
class SendReport:
    transport: str
    outcomes: list[Outcome] = field(default_factory=list)
    unavailable: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def all_sent(self) -> bool:
        return self.unavailable is None and all(o.status == SENT for o in self.outcomes)

    def summary_line(self) -> str:
        text = (f"{self.count(SENT)} sent, {self.count(DEFERRED)} deferred, "
                f"{self.count(FAILED)} failed via {self.transport}")
        if self.unavailable:
            text += f"; {self.count(WAITING)} waiting: {self.unavailable}"
        return text


def _utcnow() -> datetime:
    return datetime.now(UTC)


# compat32: only the From address is read here, and the default policy's header objects cost
# a millisecond per message.
_HEADERS = BytesHeaderParser(policy=compat32)
# The blank line that ends the header block (operator alerts are stored with LF line ends).
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _sender(raw: bytes) -> str:
    """The address in the From header of ``raw``; only its header block is parsed (the parser
    would decode the whole message first)."""
    end = _HEADER_END.search(raw)
    head = raw if end is None else raw[: end.start()]
    return parseaddr(str(_HEADERS.parsebytes(head).get("From", "")))[1]


def _outgoing(row: ClaimedMessage) -> Outgoing:
    # The envelope sender is the From of the stored message: what was queued is what is sent.
    sender = _sender(row.message)
    return Outgoing(digest_key=row.digest_key, message_id=row.message_id, sender=sender,
                    recipient=row.recipient, raw=row.message, created_at=row.created_at)


def send_pending(
    repo: Repository,
    transport: Transport,
    *,
    now: datetime,
    clock: Callable[[], datetime] = _utcnow,
    policy: RetryPolicy | None = None,
    ignore_schedule: bool = False,
) -> SendReport:
    """Send every due message (with ``ignore_schedule``, every pending one); see the module
    docstring. ``now`` is the claim time and the base of backoffs; ``clock`` stamps sent_at.

    Only unexpected errors (a bug, the database gone) propagate; claimed rows then wait in
    ``sending`` until their claim is stale and are sent again.
    """
    policy = policy or RetryPolicy()
    report = SendReport(transport=transport.description)
    # One walk through the outbox by id: a message deferred in this run is not tried again in
    # it (even with ignore_schedule), and each claim stays one bounded query.
    last_tried = 0
    while True:
        with repo.write() as session:
            batch = outbox_repo.claim_due(
                session, now=now, stale_before=now - policy.stale_after,
                limit=policy.batch_size, ignore_schedule=ignore_schedule, after_id=last_tried,
            )
        if not batch:
            return report
        last_tried = max(row.id for row in batch)
        if not _send_batch(repo, transport, batch, report, now=now, clock=clock, policy=policy):
            return report


def _send_batch(
    repo: Repository,
    transport: Transport,
    batch: list[ClaimedMessage],
    report: SendReport,
    *,
    now: datetime,
    clock: Callable[[], datetime],
    policy: RetryPolicy,
) -> bool:
    """Send one claimed batch; False when the transport became unavailable."""
    with transport.connect() as connection:
        for position, row in enumerate(batch):
            try:
                detail = connection.send(_outgoing(row))
            except TransportUnavailable as exc:
                _release(repo, batch[position:], report, error=str(exc), now=now)
                report.unavailable = str(exc)
                log.warning("outbox: %s", exc)
                return False
            except PermanentFailure as exc:
                _fail(repo, row, report, error=str(exc))
            except TemporaryFailure as exc:
                _defer(repo, row, report, error=str(exc), now=now, policy=policy)
            else:
                with repo.write() as session:
                    outbox_repo.mark_sent(session, row.id, now=clock())
                report.outcomes.append(_outcome(row, SENT, detail))
    return True


def _outcome(row: ClaimedMessage, status: str, detail: str,
             retry_at: datetime | None = None) -> Outcome:
    return Outcome(digest_key=row.digest_key, recipient=row.recipient, subject=row.subject,
                   message_id=row.message_id, status=status, detail=detail,
                   attempts=row.attempts, retry_at=retry_at)


def _fail(repo: Repository, row: ClaimedMessage, report: SendReport, *, error: str) -> None:
    with repo.write() as session:
        outbox_repo.mark_failed(session, row.id, error=error)
    report.outcomes.append(_outcome(row, FAILED, error))
    log.warning("outbox: %s to %s failed: %s", row.digest_key, row.recipient, error)


def _defer(
    repo: Repository, row: ClaimedMessage, report: SendReport, *, error: str, now: datetime,
    policy: RetryPolicy,
) -> None:
    if row.attempts >= policy.max_attempts:
        _fail(repo, row, report, error=f"gave up after {row.attempts} attempts: {error}")
        return
    retry_at = now + policy.delay(row.attempts)
    with repo.write() as session:
        outbox_repo.mark_retry(session, row.id, error=error, next_attempt_at=retry_at)
    report.outcomes.append(_outcome(row, DEFERRED, error, retry_at))
    log.info("outbox: %s to %s deferred until %s: %s", row.digest_key, row.recipient,
             retry_at.isoformat(), error)


def _release(
    repo: Repository, rows: list[ClaimedMessage], report: SendReport, *, error: str,
    now: datetime,
) -> None:
    # Nothing was tried: the rows are due again at once, their attempt not counted.
    with repo.write() as session:
        outbox_repo.release(session, [row.id for row in rows], error=error, next_attempt_at=now)
    report.outcomes.extend(_outcome(row, WAITING, error) for row in rows)
