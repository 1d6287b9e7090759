"""The outbox's promises, with a scripted transport: queue once, retry 4xx with backoff, give up
on 5xx for that one only, keep everything when the transport is down, recover stale claims."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import event

from notifiers.email import BuiltMessage
from notifiers.outbox import (
    DEFERRED,
    FAILED,
    SENT,
    WAITING,
    RetryPolicy,
    enqueue,
    enqueue_page,
    send_pending,
)
from notifiers.service import prepare_message
from notifiers.transport import (
    DeliveryError,
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
    TransportUnavailable,
)
from tests.notifiers.queueing import (
    KEY,
    QUEUED_AT,
    SETTINGS,
    ConflictOn,
    Marks,
    queue_digests,
    rows,
)
from tracker.digest import Digest
from tracker.errors import DigestConflict
from tracker.storage import outbox_repo
from tracker.storage.repository import Repository

NOW = QUEUED_AT + timedelta(minutes=1)


@dataclass
class Scripted:
    """A transport whose sends follow ``script`` (None: accept); records what it accepted."""

    script: list[DeliveryError | None] = field(default_factory=list)
    accepted: list[Outgoing] = field(default_factory=list)
    connections: int = 0
    description: str = "scripted"

    @contextmanager
    def connect(self) -> Iterator[Scripted]:
        self.connections += 1
        yield self

    def send(self, message: Outgoing) -> str:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.accepted.append(message)
        return f"accepted {message.digest_key}"


def statuses(repo: Repository) -> list[tuple[str, int]]:
    return [(r.status, r.attempts) for r in rows(repo)]


def test_a_digest_is_queued_once_with_its_marks(repo: Repository) -> None:
    marks = Marks()
    digest = queue_digests(repo, 1, marks=marks)[0]
    _, message = prepare_message(digest, settings=SETTINGS, key=KEY, now=QUEUED_AT)
    assert enqueue(repo, digest, message, now=QUEUED_AT, mark_queued=marks) is False
    assert marks.keys == [digest.digest_key], "marked once, with the message that was queued"
    (row,) = rows(repo)
    assert (row.digest_key, row.status, row.attempts, row.recipient) == (
        digest.digest_key, "pending", 0, "sub0@example.org")
    assert row.message_id == message.message_id
    assert row.subject == "Daily bill digest: news on 1 bill"


def test_queueing_rolls_back_when_marking_fails(repo: Repository) -> None:
    with pytest.raises(DigestConflict):
        queue_digests(repo, 1, marks=Marks(fail_with=DigestConflict("taken meanwhile")))
    assert rows(repo) == [], "no message without its marks"


def test_due_messages_are_sent_once_in_order(repo: Repository) -> None:
    digests = queue_digests(repo, 3)
    transport = Scripted()
    report = send_pending(repo, transport, now=NOW)
    assert [m.digest_key for m in transport.accepted] == [d.digest_key for d in digests]
    assert [o.status for o in report.outcomes] == [SENT] * 3 and report.all_sent
    assert statuses(repo) == [("sent", 1)] * 3
    assert all(r.sent_at is not None for r in rows(repo))
    assert transport.accepted[0].sender == "alerts@tracker.example.org"
    assert transport.accepted[0].raw == rows_message(repo, 0)
    again = send_pending(repo, transport, now=NOW + timedelta(hours=1))
    assert again.outcomes == [] and len(transport.accepted) == 3


def rows_message(repo: Repository, index: int) -> bytes:
    return rows(repo)[index].message


def test_not_yet_due_messages_wait(repo: Repository) -> None:
    queue_digests(repo, 1)
    report = send_pending(repo, Scripted(), now=QUEUED_AT - timedelta(seconds=1))
    assert report.outcomes == [] and statuses(repo) == [("pending", 0)]


def test_temporary_failure_is_retried_later_with_backoff(repo: Repository) -> None:
    queue_digests(repo, 2)
    transport = Scripted([TemporaryFailure("451 4.3.0 try later")])
    report = send_pending(repo, transport, now=NOW)
    deferred = report.outcomes[0]
    assert (deferred.status, deferred.retry_at) == (DEFERRED, NOW + timedelta(minutes=5))
    assert "451 4.3.0 try later" in deferred.detail
    assert report.outcomes[1].status == SENT, "the others go on"
    first = rows(repo)[0]
    assert (first.status, first.attempts, first.last_error) == ("pending", 1, "451 4.3.0 try later")
    assert send_pending(repo, transport, now=NOW + timedelta(minutes=4)).outcomes == []
    later = send_pending(repo, transport, now=NOW + timedelta(minutes=5))
    assert [o.status for o in later.outcomes] == [SENT]
    assert statuses(repo) == [("sent", 2), ("sent", 1)]
    assert len(transport.accepted) == 2, "each delivered once"


def test_backoff_doubles_up_to_a_cap_then_gives_up(repo: Repository) -> None:
    policy = RetryPolicy(max_attempts=4, first_delay=timedelta(minutes=5),
                         max_delay=timedelta(minutes=15))
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=15), timedelta(minutes=15)]
    queue_digests(repo, 1)
    transport = Scripted([TemporaryFailure("421 busy", connection_lost=True)] * 4)
    moment = NOW
    for _ in range(3):
        report = send_pending(repo, transport, now=moment, policy=policy)
        (outcome,) = report.outcomes
        assert outcome.status == DEFERRED
        assert outcome.retry_at is not None
        moment = outcome.retry_at
    final = send_pending(repo, transport, now=moment, policy=policy)
    assert final.outcomes[0].status == FAILED
    assert final.outcomes[0].detail == "gave up after 4 attempts: 421 busy"
    assert statuses(repo) == [("failed", 4)]


def test_permanent_failure_fails_that_one_only(repo: Repository) -> None:
    queue_digests(repo, 3)
    transport = Scripted([None, PermanentFailure("550 5.1.1 no such user")])
    report = send_pending(repo, transport, now=NOW)
    assert [o.status for o in report.outcomes] == [SENT, FAILED, SENT]
    assert not report.all_sent
    assert statuses(repo) == [("sent", 1), ("failed", 1), ("sent", 1)]
    assert rows(repo)[1].last_error == "550 5.1.1 no such user"
    assert send_pending(repo, transport, now=NOW + timedelta(days=1)).outcomes == []


def test_unavailable_transport_keeps_the_batch_without_counting(repo: Repository) -> None:
    queue_digests(repo, 3)
    transport = Scripted([None, TransportUnavailable("smtp://x:25: connect failed")])
    report = send_pending(repo, transport, now=NOW)
    assert [o.status for o in report.outcomes] == [SENT, WAITING, WAITING]
    assert report.unavailable == "smtp://x:25: connect failed"
    assert "2 waiting: smtp://x:25: connect failed" in report.summary_line()
    assert statuses(repo) == [("sent", 1), ("pending", 0), ("pending", 0)]
    recovered = send_pending(repo, transport, now=NOW + timedelta(seconds=1))
    assert [o.status for o in recovered.outcomes] == [SENT, SENT]
    assert len(transport.accepted) == 3


def test_stale_claims_are_sent_again_after_a_crash(repo: Repository) -> None:
    queue_digests(repo, 2)

    class Crash(Exception):
        pass

    class CrashAfterAccepting(Scripted):
        def send(self, message: Outgoing) -> str:
            super().send(message)
            raise Crash("killed after the server accepted")

    crashing = CrashAfterAccepting()
    with pytest.raises(Crash):
        send_pending(repo, crashing, now=NOW)
    assert statuses(repo) == [("sending", 1), ("sending", 1)]
    policy = RetryPolicy(stale_after=timedelta(minutes=10))
    transport = Scripted()
    early = send_pending(repo, transport, now=NOW + timedelta(minutes=9), policy=policy)
    assert early.outcomes == [], "a fresh claim may still be in flight elsewhere"
    report = send_pending(repo, transport, now=NOW + timedelta(minutes=11), policy=policy)
    assert [o.status for o in report.outcomes] == [SENT, SENT]
    assert transport.accepted[0].message_id == crashing.accepted[0].message_id
    assert transport.accepted[0].raw == crashing.accepted[0].raw, "the same bytes again"
    assert statuses(repo) == [("sent", 2), ("sent", 2)]


def test_ignore_schedule_sends_deferred_now_but_once_per_run(repo: Repository) -> None:
    queue_digests(repo, 1)
    transport = Scripted([TemporaryFailure("451 later"), TemporaryFailure("451 again")])
    send_pending(repo, transport, now=NOW)
    report = send_pending(repo, transport, now=NOW + timedelta(seconds=1), ignore_schedule=True)
    assert [o.status for o in report.outcomes] == [DEFERRED], "tried once, not in a loop"
    forced = send_pending(repo, transport, now=NOW + timedelta(seconds=2), ignore_schedule=True)
    assert [o.status for o in forced.outcomes] == [SENT]


def test_batches_reuse_one_connection(repo: Repository) -> None:
    queue_digests(repo, 5)
    transport = Scripted()
    send_pending(repo, transport, now=NOW, policy=RetryPolicy(batch_size=2))
    assert len(transport.accepted) == 5 and transport.connections == 3


@pytest.mark.parametrize("bad", [
    {"max_attempts": 0}, {"batch_size": 0}, {"first_delay": timedelta(0)},
    {"stale_after": timedelta(0)},
])
def test_retry_policy_refuses_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RetryPolicy(**bad)  # type: ignore[arg-type]



def test_concurrent_senders_never_claim_the_same_row(repo: Repository) -> None:
    """Two senders on PostgreSQL: rows one has locked are skipped by the other."""
    if repo.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers: a second sender waits instead")
    queue_digests(repo, 3)
    with repo.write() as first:
        mine = outbox_repo.claim_due(first, now=NOW, stale_before=NOW, limit=2)
        with repo.write() as second:
            theirs = outbox_repo.claim_due(second, now=NOW, stale_before=NOW, limit=2)
    assert len(mine) == 2 and len(theirs) == 1
    assert {m.id for m in mine}.isdisjoint(t.id for t in theirs)
    assert statuses(repo) == [("sending", 1)] * 3


# --- a page of digests in one transaction; message bytes written once ----------------------


@contextmanager
def statements(repo: Repository) -> Iterator[list[str]]:
    """The SQL run meanwhile, commits included."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    def commit(_conn: object) -> None:
        seen.append("COMMIT")

    event.listen(repo.engine, "before_cursor_execute", record)
    event.listen(repo.engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(repo.engine, "before_cursor_execute", record)
        event.remove(repo.engine, "commit", commit)


def prepared(repo: Repository, count: int) -> list[tuple[Digest, BuiltMessage]]:
    """``count`` digests of stored subscribers with their messages, not queued."""
    digests = queue_digests(repo, count, queue=False)
    return [(d, prepare_message(d, settings=SETTINGS, key=KEY, now=QUEUED_AT)[1])
            for d in digests]


def test_a_page_is_queued_in_one_transaction(repo: Repository) -> None:
    page = prepared(repo, 3)
    marks = Marks()
    with statements(repo) as seen:
        outcomes = enqueue_page(repo, page, now=QUEUED_AT, mark_queued=marks)
    assert outcomes == [True, True, True]
    assert seen.count("COMMIT") == 1
    assert marks.keys == [d.digest_key for d, _ in page]
    assert [r.digest_key for r in rows(repo)] == marks.keys
    assert [r.message for r in rows(repo)] == [m.raw for _, m in page]


def test_a_conflict_in_a_page_costs_only_its_own_digest(repo: Repository) -> None:
    page = prepared(repo, 3)
    conflicted = page[1][0].digest_key
    outcomes = enqueue_page(repo, page, now=QUEUED_AT, mark_queued=ConflictOn(key=conflicted))
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], DigestConflict)
    assert [r.digest_key for r in rows(repo)] == [page[0][0].digest_key, page[2][0].digest_key]
    again = enqueue_page(repo, page, now=QUEUED_AT, mark_queued=Marks())
    assert again == [False, True, False], "queued once; the conflicted one now goes in"


def test_claims_and_marks_never_rewrite_the_message_bytes(repo: Repository) -> None:
    queue_digests(repo, 3)
    transport = Scripted([None, TemporaryFailure("451 later"), PermanentFailure("550 no")])
    with statements(repo) as seen:
        send_pending(repo, transport, now=NOW)
    writes = [s for s in seen if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes and all("outbox_messages" not in s for s in writes)
    assert statuses(repo) == [("sent", 1), ("pending", 1), ("failed", 1)]
    assert rows(repo)[0].message == transport.accepted[0].raw
