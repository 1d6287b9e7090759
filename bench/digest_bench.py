"""``digest_msgs_per_s``: the real delivery run for many subscribers, into a loopback SMTP server.

Setup (not timed): the demo Congress (``tracker demo``'s BILLSTATUS files) served on loopback
and polled by the real us-govinfo source; ``subscribers`` people in English, Korean and Spanish,
each following the whole of Congress or one bill, daily; their welcome digests sent; then an
upstream change polled. Timed: ``notifiers.service.send_digests`` the next morning, which
routes the new events, builds every due digest, renders it in its language (jinja2, css-inline),
queues it in the outbox with its deliveries and sends it over one SMTP connection per batch to
an aiosmtpd server on loopback, in a process of its own as a mail server would be
(``bench/smtp_sink.py``: it keeps only the Message-IDs).

Every subscriber must receive exactly one daily digest, with distinct Message-IDs; the run
fails loudly otherwise.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from notifiers.outbox import SENT
from notifiers.service import send_digests
from notifiers.smtp import SmtpTransport
from tracker.demo import (
    BASELINE_AT,
    CHANGE_AT,
    NEXT_MORNING,
    SESSION,
    SOURCE,
    DemoClock,
    DemoUpstream,
    demo_pipeline,
    demo_settings,
)
from tracker.digest import Frequency, Language, TargetKind
from tracker.storage import subscriptions_repo as store
from tracker.subscriptions import SubscriberProfile
from tracker.wiring import open_repository

LANGUAGES = (Language.EN, Language.KO, Language.ES)


class SinkProcess:
    """``bench/smtp_sink.py`` running on a free loopback port; ``message_ids()`` reads what it
    has accepted so far."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.log = folder / "smtp-sink.log"
        self.log.touch()
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("smtp_sink.py")), str(self.port),
             str(self.log)],
        )
        deadline = time.monotonic() + 20
        while not _accepts(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("digest bench: the loopback SMTP server did not start")
            time.sleep(0.05)

    def message_ids(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    # aiosmtpd's Controller cannot start on port 0 (its readiness probe connects to it).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(tmp: Path, *, subscribers: int) -> dict[str, Any]:
    """``{"messages", "seconds"}`` of the timed delivery run (see the module docstring)."""
    tmp.mkdir(parents=True, exist_ok=True)
    sink = SinkProcess(tmp)
    try:
        with DemoUpstream(tmp / "digest-upstream") as upstream:
            return _run(tmp, upstream, sink, subscribers=subscribers)
    finally:
        sink.stop()


def _run(tmp: Path, upstream: DemoUpstream, sink: SinkProcess, *, subscribers: int
         ) -> dict[str, Any]:
    settings = demo_settings(tmp / "digest", base_url=upstream.base_url, extra_env={
        "TRACKER_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "TRACKER_PUBLIC_URL": "https://tracker.example.org",
    })
    repo = open_repository(settings)
    clock = DemoClock(BASELINE_AT)
    pipeline = demo_pipeline(settings, repo, clock)
    if pipeline.poll(SOURCE).status != "ok":
        raise SystemExit("digest bench: the baseline poll failed")
    transport = SmtpTransport(host="127.0.0.1", port=sink.port, timeout=30.0,
                              helo="tracker.example.org")
    subscribed_at = BASELINE_AT + timedelta(minutes=5)
    _subscribe(repo, subscribers, now=subscribed_at)
    welcome = send_digests(repo, settings=settings, now=subscribed_at, transport=transport,
                           clock=lambda: subscribed_at)
    _check(welcome, expected=subscribers, what="welcome")

    clock.set(CHANGE_AT)
    upstream.apply_change()
    if pipeline.poll(SOURCE).status != "ok":
        raise SystemExit("digest bench: the change poll failed")
    before = len(sink.message_ids())
    started = time.perf_counter()
    daily = send_digests(repo, settings=settings, now=NEXT_MORNING, transport=transport,
                         clock=lambda: NEXT_MORNING)
    seconds = time.perf_counter() - started
    _check(daily, expected=subscribers, what="daily")
    every = sink.message_ids()
    received = every[before:]
    if len(received) != subscribers or len(set(every)) != len(every):
        raise SystemExit(f"digest bench: {len(received)} daily messages received for "
                         f"{subscribers} subscribers, or a Message-ID repeated")
    repo.engine.dispose()
    return {"messages": len(received), "seconds": seconds}


def _subscribe(repo: Any, count: int, *, now: Any) -> None:
    """``count`` daily subscribers; two in three follow all of Congress, the rest one bill."""
    with repo.write() as session:
        for n in range(count):
            profile = SubscriberProfile(
                email=f"reader{n}@example.org", name=f"Reader {n}",
                language=LANGUAGES[n % 3], timezone="America/New_York",
                frequency=Frequency.DAILY,
            )
            subscriber = store.upsert_subscriber(session, profile, origin="cli", now=now)
            kind, target = ((TargetKind.BILL, f"us/{SESSION}/HR 101") if n % 3 == 2
                            else (TargetKind.JURISDICTION, "us"))
            store.add_subscription(
                session, subscriber_id=subscriber.id, target_kind=kind.value, target=target,
                jurisdictions=(), kinds=(), stages=(), origin="cli", now=now,
            )


def _check(report: Any, *, expected: int, what: str) -> None:
    sent = report.send.count(SENT) if report.send is not None else 0
    if report.problems or sent != expected:
        problems = "; ".join(report.problems[:3])
        raise SystemExit(f"digest bench: {sent} of {expected} {what} digests sent ({problems})")
