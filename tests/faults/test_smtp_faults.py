"""SMTP faults that ``tests/notifiers/test_smtp.py`` does not already cover (it covers 451 then
success, 550 for a recipient, a connection dropped mid-batch, a hung DATA reply, a crash
simulated by an exception, an unreachable server, a refused login):

* a ``tracker digest --send`` process killed with SIGKILL after the server accepted a message
  and before the outbox marked it sent: the next run sends it again with the same
  Message-ID, the one duplicate the outbox allows, and every digest arrives;
* ``421`` to DATA (the server closing the channel): deferred, the rest of the batch goes on
  over a new connection, and the deferred one arrives once later;
* ``550`` to DATA (the message itself refused): that one failed and reported, no retry;
* ``421`` as the greeting, and a server that accepts the connection and never greets: nothing
  sent, nothing counted as an attempt, reported in one line, sent later.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from notifiers.outbox import DEFERRED, FAILED, SENT, WAITING, send_pending
from notifiers.smtp import SmtpTransport
from tests.faults.deployment import deployment
from tests.notifiers.queueing import QUEUED_AT, queue_digests, rows
from tests.notifiers.smtp_server import Server, Sink, free_port
from tracker.storage.repository import Repository
from tracker.storage.tables import OutboxRow

NOW = QUEUED_AT + timedelta(minutes=1)


@pytest.fixture
def smtp() -> Iterator[Server]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Server(host="127.0.0.1", port=controller.port, sink=sink)
    finally:
        controller.stop()


def transport(server: Server | tuple[str, int], *, timeout: float = 2.0) -> SmtpTransport:
    host, port = (server.host, server.port) if isinstance(server, Server) else server
    return SmtpTransport(host=host, port=port, timeout=timeout, helo="tracker.example.org")


def test_421_to_data_defers_that_message_and_the_batch_goes_on(
    repo: Repository, smtp: Server
) -> None:
    queue_digests(repo, 3)
    smtp.sink.script = ["accept", "421 4.3.2 Service shutting down, closing channel"]
    first = send_pending(repo, transport(smtp), now=NOW)
    assert [o.status for o in first.outcomes] == [SENT, DEFERRED, SENT]
    assert "deferred the message: 421 4.3.2 Service shutting down" in first.outcomes[1].detail
    later = send_pending(repo, transport(smtp), now=NOW + timedelta(minutes=5))
    assert [o.status for o in later.outcomes] == [SENT]
    ids = smtp.sink.message_ids()
    assert len(ids) == len(set(ids)) == 3, "each digest exactly once"


def test_550_to_data_fails_that_message_only(repo: Repository, smtp: Server) -> None:
    queue_digests(repo, 3)
    smtp.sink.script = ["accept", "550 5.6.0 Message content rejected"]
    report = send_pending(repo, transport(smtp), now=NOW)
    assert [o.status for o in report.outcomes] == [SENT, FAILED, SENT]
    assert "refused the message: 550 5.6.0 Message content rejected" in report.outcomes[1].detail
    assert [r.status for r in rows(repo)] == ["sent", "failed", "sent"]
    assert send_pending(repo, transport(smtp), now=NOW + timedelta(hours=7)).outcomes == [], (
        "a permanent refusal is not retried")


class BadServer:
    """A TCP server that answers each connection with ``greeting`` (or nothing, to hang)."""

    def __init__(self, greeting: bytes | None) -> None:
        self.greeting = greeting
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.address: tuple[str, int] = self.socket.getsockname()[:2]
        self.connections = 0
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections += 1
            if self.greeting is None:
                self._open.append(connection)  # accepted, never answered
                continue
            connection.sendall(self.greeting)
            connection.close()

    def close(self) -> None:
        self.socket.close()
        for connection in self._open:
            connection.close()


@pytest.mark.parametrize(("greeting", "says"), [
    (b"421 4.3.2 tracker.example.org too busy, try later\r\n", "connect refused: 421 4.3.2"),
    (None, "timed out"),
], ids=["421 greeting", "never greets"])
def test_a_server_that_will_not_talk_keeps_everything_queued(
    repo: Repository, smtp: Server, greeting: bytes | None, says: str
) -> None:
    queue_digests(repo, 2)
    bad = BadServer(greeting)
    try:
        started = time.monotonic()
        report = send_pending(repo, transport(bad.address, timeout=0.5), now=NOW)
        assert time.monotonic() - started < 3, "the timeout ends the wait, not the server"
    finally:
        bad.close()
    assert [o.status for o in report.outcomes] == [WAITING, WAITING]
    assert report.unavailable is not None and says in report.unavailable
    assert "\n" not in report.summary_line()
    assert [(r.status, r.attempts) for r in rows(repo)] == [("pending", 0), ("pending", 0)]
    assert [o.status for o in send_pending(repo, transport(smtp), now=NOW).outcomes] == [
        SENT, SENT]
    assert len(set(smtp.sink.message_ids())) == 2


class KillingSink(Sink):
    """Accepts each message, and on the first one kills the sending process (SIGKILL)
    before answering: the server has the message, the sender never hears 250."""

    victim: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        victim, self.victim = self.victim, None
        if victim is not None:
            os.kill(victim, signal.SIGKILL)
        return "250 2.0.0 accepted"


def test_a_sender_killed_between_acceptance_and_marking_repeats_one_message_at_most(
    repo: Repository, database_url: str, tmp_path: Path
) -> None:
    digests = queue_digests(repo, 3)
    sink = KillingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        place = deployment(tmp_path, sources="", database_url=database_url, extra_env={
            "TRACKER_SMTP_HOST": "127.0.0.1", "TRACKER_SMTP_PORT": str(controller.port),
            "TRACKER_SMTP_TLS": "none"})
        sender = place.start("digest", "--send")
        sink.victim = sender.pid
        sender.communicate(timeout=60)
        assert sender.returncode == -signal.SIGKILL
        assert len(sink.received) == 1
        statuses = [r.status for r in rows(repo)]
        assert statuses == ["sending", "sending", "sending"], "claimed, none marked sent"

        # Ten minutes pass: the dead sender's claim is stale (the outbox's stale_after).
        with repo.write() as session:
            for row in session.execute(sa.select(OutboxRow)).scalars():
                assert row.claimed_at is not None
                row.claimed_at -= timedelta(minutes=11)
        again = place.run("digest", "--send")
        assert again.returncode == 0, again.stdout + again.stderr
        assert again.stdout.strip().splitlines()[-1].startswith("3 sent, 0 deferred, 0 failed")
    finally:
        controller.stop()
    ids = [str(m["Message-ID"]) for m in sink.messages]
    assert len(ids) == 4, "at most the one repeat"
    assert len(set(ids)) == len(digests), "distinct Message-IDs == digests"
    assert ids.count(ids[0]) == 2, "the repeat carries the same Message-ID"
    assert [r.status for r in rows(repo)] == ["sent"] * 3
