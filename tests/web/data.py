"""Test data for the web app: the real GovInfo samples polled into a database by the real
pipeline (with topic matching), then one upstream correction polled again; settings and a
clock for the app; and a small reader of the ``.eml`` files the app sends.

The correction: upstream rewords one action of us/117/HR 2471 ("Message on Senate action sent
to the House."), which the tracker stores as the old action removed (kept, marked) and a new
one added, as it would for any upstream correction.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import responses

from scrapers.us_govinfo import UsGovinfo
from tests.govinfo_mirror import BASE, SESSIONS, Mirror, bill_path
from tracker.http import HttpClient
from tracker.matching import topic_hook
from tracker.pipeline import Pipeline
from tracker.settings import MailSettings, Settings, SourceSettings, config_file
from tracker.storage.repository import Repository
from tracker.topic_config import read_topics

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "web-tests-secret-key-0123456789abcdef"
PUBLIC_URL = "https://tracker.example.org"
HR2471 = ("117", "hr", 2471)
HR2471_KEY = "us/117/HR 2471"
HR2471_PATH = "/bills/us/117/HR%202471"
ORIGINAL = "<text>Message on Senate action sent to the House.</text>"
CORRECTED = "<text>Message on Senate action sent to the House (corrected text).</text>"
BASELINE_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CORRECTION_AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock that ticks a millisecond per reading (ordered, distinct times)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def set(self, moment: datetime) -> None:
        self.now = moment

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def web_settings(
    *, database_url: str, folder: Path, public_url: str = PUBLIC_URL,
    environ: dict[str, str] | None = None, smtp: tuple[str, int] | None = None,
) -> Settings:
    """Settings with us-govinfo on the mirror, the project's topics, and mail to ``folder``
    (or to an SMTP server at ``smtp``)."""
    env = {"TRACKER_SECRET_KEY": SECRET, **(environ or {})}
    return Settings(
        config_dir=folder, database_url=database_url,
        sources={"us-govinfo": SourceSettings(name="us-govinfo", enabled=True,
                                              sessions=SESSIONS, base_url=BASE)},
        mail=MailSettings(
            smtp_host=smtp[0] if smtp else None, smtp_port=smtp[1] if smtp else 25,
            mail_from="tracker@example.org", public_url=public_url, secret_key=SECRET,
            outbox_dir=folder / "outbox",
        ),
        topics=read_topics(config_file(REPO_ROOT / "config", "topics.toml")),
        environ=env,
    )


@dataclass
class Seeded:
    baseline_events: int
    correction_events: int


def seed(repo: Repository, settings: Settings) -> Seeded:
    """Poll the real samples (a baseline), then HR 2471 with one action reworded."""
    clock = Clock(BASELINE_AT)
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    pipeline = Pipeline(settings=settings, repo=repo, http=http,
                        registry={"us-govinfo": UsGovinfo}, clock=clock,
                        on_stored=topic_hook(repo=repo, topics=settings.topics, clock=clock))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mirror = Mirror.from_samples()
        mirror.serve(rsps)
        first = pipeline.poll("us-govinfo")
        assert first.status == "ok", first.failures
        body = mirror.documents[bill_path(*HR2471)].decode()
        assert ORIGINAL in body
        mirror.change_bill(HR2471, body.replace(ORIGINAL, CORRECTED).encode(),
                           "2026-12-02T08:00:00.000Z")
        clock.set(CORRECTION_AT)
        second = pipeline.poll("us-govinfo")
        assert second.status == "ok", second.failures
    return Seeded(baseline_events=first.events, correction_events=second.events)


def sent_messages(folder: Path) -> list[EmailMessage]:
    """The messages the files transport wrote under ``folder``, oldest file first."""
    paths = sorted(folder.rglob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in paths]


def link_in(message: EmailMessage, prefix: str) -> str:
    """The first link in the message's text starting with ``prefix``."""
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(re.escape(prefix) + r"[^\s>]+", body.get_content())
    assert found is not None, f"no {prefix} link in the message"
    return found.group(0)
