"""Delivery through a real SMTP server (aiosmtpd): plain, STARTTLS and implicit TLS with AUTH,
4xx then success, 5xx for one recipient, a dropped connection, a hung server, and a crash
between the server's acceptance and the ``sent`` mark. Received mail is parsed and checked."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage

import pytest

from notifiers.outbox import DEFERRED, FAILED, SENT, WAITING, RetryPolicy, send_pending
from notifiers.smtp import SmtpTransport, crlf
from notifiers.transport import Outgoing
from tests.notifiers.mail import body, parse
from tests.notifiers.queueing import LANGUAGES, QUEUED_AT, queue_digests, rows
from tests.notifiers.smtp_server import PASSWORD, USER, Server
from tracker.settings import MailSettings
from tracker.storage.repository import Repository

NOW = QUEUED_AT + timedelta(minutes=1)
LATER = NOW + timedelta(hours=1)


def plain(server: Server, *, tls: str = "none", user: str | None = None,
          password: str | None = None, ssl_context: ssl.SSLContext | None = None
          ) -> SmtpTransport:
    return SmtpTransport(host=server.host, port=server.port, timeout=2.0,
                         helo="tracker.example.org", tls=tls, user=user, password=password,
                         ssl_context=ssl_context)


def check_received(message: EmailMessage, *, language: str) -> None:
    """The structure and headers every digest must arrive with."""
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    https, mailto = (p.strip().strip("<>") for p in message["List-Unsubscribe"].split(","))
    assert https.startswith("https://tracker.example.org/unsubscribe/")
    assert mailto.startswith("mailto:alerts@tracker.example.org?subject=unsubscribe-")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"] is not None and message["Message-ID"].endswith("@tracker.example.org>")
    assert message["Content-Language"] == language
    html = body(message, "html")
    assert f'<html lang="{language}"' in html


class Crash(Exception):
    pass


class CrashAfterAccepting:
    """Wraps a transport: each send reaches the server, then the "process dies" (Crash)
    before the outbox can mark the message sent."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner
        self.description = inner.description

    @contextmanager
    def connect(self) -> Iterator[CrashAfterAccepting]:
        with self.inner.connect() as connection:
            self._connection = connection
            yield self

    def send(self, message: Outgoing) -> str:
        self._connection.send(message)
        raise Crash("the process died before marking the message sent")


def test_plain_smtp_delivers_well_formed_digests(repo: Repository, smtp_server: Server) -> None:
    digests = queue_digests(repo, 3)
    report = send_pending(repo, plain(smtp_server), now=NOW)
    assert [o.status for o in report.outcomes] == [SENT] * 3
    assert report.outcomes[0].detail == f"accepted by smtp://127.0.0.1:{smtp_server.port}"
    received = smtp_server.sink.messages
    assert [m["To"].addresses[0].addr_spec for m in received] == [
        d.recipient.email for d in digests]
    for index, message in enumerate(received):
        check_received(message, language=LANGUAGES[index].value)
    assert [e.mail_from for e in smtp_server.sink.received] == ["alerts@tracker.example.org"] * 3
    assert "원문 제목(영어)" in body(received[1], "plain")
    assert "Qué cambió" in body(received[2], "plain")


def test_starttls_and_auth(repo: Repository, starttls_server: Server,
                           client_tls: ssl.SSLContext) -> None:
    queue_digests(repo, 2)
    wrong = plain(starttls_server, tls="starttls", user=USER, password="wrong",
                  ssl_context=client_tls)
    refused = send_pending(repo, wrong, now=NOW)
    assert [o.status for o in refused.outcomes] == [WAITING, WAITING]
    assert refused.unavailable is not None
    assert "login as tracker refused: 535" in refused.unavailable
    assert "wrong" not in refused.unavailable, "no password in messages"
    assert starttls_server.sink.received == []
    right = plain(starttls_server, tls="starttls", user=USER, password=PASSWORD,
                  ssl_context=client_tls)
    report = send_pending(repo, right, now=NOW)
    assert [o.status for o in report.outcomes] == [SENT, SENT]
    assert len(starttls_server.sink.received) == 2
    check_received(starttls_server.sink.messages[0], language="en")


def test_starttls_checks_the_certificate(repo: Repository, starttls_server: Server) -> None:
    queue_digests(repo, 1)
    untrusting = plain(starttls_server, tls="starttls", user=USER, password=PASSWORD)
    report = send_pending(repo, untrusting, now=NOW)
    assert report.unavailable is not None and "STARTTLS failed" in report.unavailable
    assert "CERTIFICATE_VERIFY_FAILED" in report.unavailable
    assert starttls_server.sink.received == []


def test_a_server_requiring_login_keeps_messages_queued(
    repo: Repository, starttls_server: Server, client_tls: ssl.SSLContext
) -> None:
    queue_digests(repo, 2)
    anonymous = plain(starttls_server, tls="starttls", ssl_context=client_tls)
    report = send_pending(repo, anonymous, now=NOW)
    assert [o.status for o in report.outcomes] == [WAITING, WAITING]
    assert report.unavailable is not None
    assert "refused the sender alerts@tracker.example.org: 530" in report.unavailable
    assert [(r.status, r.attempts) for r in rows(repo)] == [("pending", 0), ("pending", 0)]


# aiosmtpd counts only STARTTLS as TLS for AUTH, so the implicit-TLS server must allow AUTH
# "without TLS", and warns about it.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_implicit_tls(repo: Repository, ssl_server: Server, client_tls: ssl.SSLContext) -> None:
    queue_digests(repo, 1)
    transport = plain(ssl_server, tls="ssl", user=USER, password=PASSWORD,
                      ssl_context=client_tls)
    assert [o.status for o in send_pending(repo, transport, now=NOW).outcomes] == [SENT]
    check_received(ssl_server.sink.messages[0], language="en")


def test_451_then_success_delivers_once(repo: Repository, smtp_server: Server) -> None:
    queue_digests(repo, 3)
    smtp_server.sink.script = ["451 4.7.1 Greylisted, try again later"]
    transport = plain(smtp_server)
    first = send_pending(repo, transport, now=NOW)
    assert [o.status for o in first.outcomes] == [DEFERRED, SENT, SENT]
    assert "451 4.7.1 Greylisted" in first.outcomes[0].detail
    assert first.outcomes[0].retry_at == NOW + timedelta(minutes=5)
    assert send_pending(repo, transport, now=NOW + timedelta(minutes=1)).outcomes == []
    second = send_pending(repo, transport, now=NOW + timedelta(minutes=5))
    assert [o.status for o in second.outcomes] == [SENT]
    ids = smtp_server.sink.message_ids()
    assert len(ids) == 3 and len(set(ids)) == 3, "each digest exactly once"
    assert send_pending(repo, transport, now=LATER).outcomes == []


def test_550_for_one_recipient_fails_only_that_one(repo: Repository,
                                                   smtp_server: Server) -> None:
    queue_digests(repo, 3)
    smtp_server.sink.refuse["sub1@example.org"] = "550 5.1.1 User unknown"
    report = send_pending(repo, plain(smtp_server), now=NOW)
    assert [o.status for o in report.outcomes] == [SENT, FAILED, SENT]
    assert "refused recipient sub1@example.org: 550 5.1.1 User unknown" in report.outcomes[1].detail
    assert [r.status for r in rows(repo)] == ["sent", "failed", "sent"]
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.sink.messages] == [
        "sub0@example.org", "sub2@example.org"]
    assert send_pending(repo, plain(smtp_server), now=LATER).outcomes == []


def test_dropped_connection_mid_batch_resumes_without_duplicates(
    repo: Repository, smtp_server: Server
) -> None:
    queue_digests(repo, 4)
    smtp_server.sink.script = ["accept", "drop"]
    transport = plain(smtp_server)
    first = send_pending(repo, transport, now=NOW)
    assert [o.status for o in first.outcomes] == [SENT, DEFERRED, SENT, SENT]
    assert "connection dropped" in first.outcomes[1].detail
    second = send_pending(repo, transport, now=NOW + timedelta(minutes=5))
    assert [o.status for o in second.outcomes] == [SENT]
    ids = smtp_server.sink.message_ids()
    assert len(ids) == 4 and len(set(ids)) == 4
    assert [r.status for r in rows(repo)] == ["sent"] * 4


def test_a_hung_server_times_out_and_is_reported(repo: Repository, smtp_server: Server) -> None:
    queue_digests(repo, 2)
    smtp_server.sink.script = ["hang"]
    transport = SmtpTransport(host=smtp_server.host, port=smtp_server.port, timeout=0.5,
                              helo="tracker.example.org")
    started = time.monotonic()
    report = send_pending(repo, transport, now=NOW)
    assert time.monotonic() - started < 4, "the timeout, not the server, ended the wait"
    assert [o.status for o in report.outcomes] == [DEFERRED, SENT]
    assert "timed out" in report.outcomes[0].detail
    assert len(smtp_server.sink.received) == 1


def test_crash_between_acceptance_and_marking_repeats_one_message_at_most(
    repo: Repository, smtp_server: Server
) -> None:
    digests = queue_digests(repo, 3)

    crashing = CrashAfterAccepting(plain(smtp_server))
    with pytest.raises(Crash):
        send_pending(repo, crashing, now=NOW)
    assert len(smtp_server.sink.received) == 1
    policy = RetryPolicy(stale_after=timedelta(minutes=10))
    recovery = send_pending(repo, plain(smtp_server), now=NOW + timedelta(minutes=15),
                            policy=policy)
    assert [o.status for o in recovery.outcomes] == [SENT] * 3
    ids = smtp_server.sink.message_ids()
    assert len(ids) == 4, "at most the one repeat"
    assert len(set(ids)) == len(digests), "distinct Message-IDs == digests"
    assert ids[0] == ids[1], "the repeat carries the same Message-ID"
    assert send_pending(repo, plain(smtp_server), now=LATER, policy=policy).outcomes == []


def test_unreachable_server_keeps_everything_queued(repo: Repository) -> None:
    from tests.notifiers.smtp_server import free_port

    queue_digests(repo, 2)
    transport = SmtpTransport(host="127.0.0.1", port=free_port(), timeout=1.0, helo="x.example")
    report = send_pending(repo, transport, now=NOW)
    assert [o.status for o in report.outcomes] == [WAITING, WAITING]
    assert report.unavailable is not None and "connect failed" in report.unavailable
    assert [(r.status, r.attempts) for r in rows(repo)] == [("pending", 0), ("pending", 0)]


def test_transport_from_settings() -> None:
    mail = MailSettings(smtp_host="smtp.example.org", smtp_port=587, smtp_tls="starttls",
                        smtp_user="u", smtp_password="p", mail_from="alerts@example.org")
    transport = SmtpTransport.from_settings(mail)
    assert (transport.host, transport.port, transport.tls, transport.user, transport.helo) == (
        "smtp.example.org", 587, "starttls", "u", "example.org")
    assert transport.description == "smtp://smtp.example.org:587 (starttls, user u)"
    assert "p" not in repr(vars(transport).get("user"))
    with pytest.raises(ValueError, match="tls must be one of"):
        SmtpTransport(host="x", port=25, tls="tls")


def test_received_bytes_parse_with_the_default_policy(repo: Repository,
                                                      smtp_server: Server) -> None:
    queue_digests(repo, 1)
    send_pending(repo, plain(smtp_server), now=NOW)
    parsed = parse(smtp_server.sink.received[0].content)
    assert parsed.defects == [] and all(p.defects == [] for p in parsed.walk())


def test_bare_line_feeds_are_sent_as_crlf(smtp_server: Server) -> None:
    assert crlf(b"a\nb\r\nc\rd\n") == b"a\r\nb\r\nc\r\nd\r\n"
    assert crlf(b"a\r\n\r\nb\r\n") == b"a\r\n\r\nb\r\n"
    assert crlf(b"a\n\rb\r\n") == b"a\r\n\r\nb\r\n"  # as many CRs as LFs, not paired
    raw = b"Subject: source down\nFrom: alerts@example.org\n\nline one\nline two\n"
    lf_message = Outgoing(digest_key="operator:1", message_id="<1@example.org>",
                          sender="alerts@example.org", recipient="ops@example.org", raw=raw,
                          created_at=QUEUED_AT)
    with plain(smtp_server).connect() as connection:
        connection.send(lf_message)
    (envelope,) = smtp_server.sink.received
    assert parse(envelope.content)["Subject"] == "source down"
    assert body_lines(envelope.original_content) == [b"line one", b"line two"]


def body_lines(raw: bytes) -> list[bytes]:
    """The body lines as they crossed the wire; every line end was CRLF."""
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert b"\n" not in head.replace(b"\r\n", b"")
    return [line for line in payload.split(b"\r\n") if line]
