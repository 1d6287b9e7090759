"""The digest service with stand-in builders: render, queue with marks, send; one bad digest
never stops the others, and a conflict with another process sends nothing twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import notifiers.service
from notifiers.files import FilesTransport
from notifiers.outbox import SENT
from notifiers.service import preview, send_digests, transport_for
from notifiers.smtp import SmtpTransport
from tests.notifiers.digests import for_subscriber, recipient
from tests.notifiers.queueing import QUEUED_AT, SETTINGS, ConflictOn, Marks, rows
from tracker.digest import Digest, Language
from tracker.errors import ConfigError, DigestConflict
from tracker.settings import MailSettings, Settings
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.subscriptions import SubscriberProfile

NOW = QUEUED_AT


def settings_in(folder: Path, **mail: Any) -> Settings:
    return replace(SETTINGS, mail=replace(SETTINGS.mail, outbox_dir=folder, **mail))


def subscribers(repo: Repository, count: int) -> list[Digest]:
    with repo.write() as session:
        ids = [store.upsert_subscriber(session, SubscriberProfile(email=f"s{n}@example.org"),
                                       origin="cli", now=NOW).id for n in range(count)]
    languages = (Language.EN, Language.KO, Language.ES)
    return [for_subscriber(i, language=languages[n % 3], email=f"s{n}@example.org")
            for n, i in enumerate(ids)]


def fixed(digests: list[Digest]) -> Any:
    def due(repo: Repository, *, settings: Settings, now: object) -> list[Digest]:
        return list(digests)

    return due


def test_due_digests_are_rendered_queued_marked_and_sent(repo: Repository,
                                                         tmp_path: Path) -> None:
    digests = subscribers(repo, 3)
    marks = Marks()
    settings = settings_in(tmp_path / "outbox")
    report = send_digests(repo, settings=settings, now=NOW, due=fixed(digests), mark=marks,
                          route=None)
    assert report.ok and report.problems == []
    assert marks.keys == [d.digest_key for d in digests]
    assert [q.new for q in report.queued] == [True] * 3
    assert report.send is not None
    assert [o.status for o in report.send.outcomes] == [SENT] * 3
    assert all(Path(o.detail).is_file() for o in report.send.outcomes)
    assert (tmp_path / "outbox" / ".secret").is_file(), "file mode keeps its own key"


def test_a_digest_that_cannot_be_built_does_not_stop_the_others(repo: Repository,
                                                                tmp_path: Path) -> None:
    good, bad, other = subscribers(repo, 3)
    bad = replace(bad, recipient=recipient(bad.recipient.subscriber_id,
                                           email="broken\r\naddress"))
    marks = Marks()
    report = send_digests(repo, settings=settings_in(tmp_path), now=NOW,
                          due=fixed([good, bad, other]), mark=marks, route=None)
    assert not report.ok
    (problem,) = report.problems
    assert problem.startswith(f"{bad.digest_key} to broken") and "single plain address" in problem
    assert marks.keys == [good.digest_key, other.digest_key], "its deliveries stay pending"
    assert [r.digest_key for r in rows(repo)] == [good.digest_key, other.digest_key]


def test_a_conflict_with_another_process_is_skipped(repo: Repository, tmp_path: Path) -> None:
    digests = subscribers(repo, 1)
    report = send_digests(repo, settings=settings_in(tmp_path), now=NOW, due=fixed(digests),
                          mark=Marks(fail_with=DigestConflict("queued by another process")),
                          route=None)
    assert report.problems == [] and len(report.skipped) == 1
    assert "queued by another process" in report.skipped[0]
    assert rows(repo) == []


def test_a_repeated_digest_key_is_reported_not_sent_twice(repo: Repository,
                                                          tmp_path: Path) -> None:
    digests = subscribers(repo, 1)
    settings = settings_in(tmp_path)
    send_digests(repo, settings=settings, now=NOW, due=fixed(digests), mark=Marks(), route=None)
    again = send_digests(repo, settings=settings, now=NOW + timedelta(hours=1),
                         due=fixed(digests), mark=Marks(), route=None)
    assert [q.new for q in again.queued] == [False]
    assert "already queued by an earlier run" in again.problems[0]
    assert again.send is not None and again.send.outcomes == []
    assert len(rows(repo)) == 1


def test_smtp_without_a_secret_key_queues_nothing(repo: Repository, tmp_path: Path) -> None:
    digests = subscribers(repo, 1)
    settings = settings_in(tmp_path, smtp_host="smtp.example.org")
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY is not set"):
        send_digests(repo, settings=settings, now=NOW, due=fixed(digests), mark=Marks(),
                     route=None)
    assert rows(repo) == []


def test_routing_runs_first(repo: Repository, tmp_path: Path) -> None:
    calls: list[str] = []

    def route(repo: Repository, *, settings: Settings, now: object) -> str:
        calls.append("route")
        return "routed"

    def due(repo: Repository, *, settings: Settings, now: object) -> list[Digest]:
        calls.append("due")
        return []

    report = send_digests(repo, settings=settings_in(tmp_path), now=NOW, due=due, mark=Marks(),
                          route=route)
    assert calls == ["route", "due"] and report.routing == "routed" and report.ok


def test_preview_renders_without_queueing(repo: Repository, tmp_path: Path) -> None:
    digest = subscribers(repo, 1)[0]
    rendered = preview(repo, settings=settings_in(tmp_path), email="s0@example.org", now=NOW,
                       build=lambda repo, **kw: digest)
    assert rendered is not None and rendered.subject == "Daily bill digest: news on 1 bill"
    assert "Driver privilege cards" in rendered.text and "<html" in rendered.html
    assert rows(repo) == []
    assert preview(repo, settings=settings_in(tmp_path), email="s0@example.org", now=NOW,
                   build=lambda repo, **kw: None) is None


def test_transport_for() -> None:
    assert isinstance(transport_for(MailSettings(outbox_dir=Path("x"))), FilesTransport)
    smtp = transport_for(MailSettings(smtp_host="smtp.example.org"))
    assert isinstance(smtp, SmtpTransport) and smtp.host == "smtp.example.org"


def test_digests_are_queued_a_page_at_a_time_and_a_conflict_skips_only_its_own(
    repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifiers.service, "QUEUE_PAGE", 2)
    digests = subscribers(repo, 5)
    bad = replace(digests[3], recipient=recipient(digests[3].recipient.subscriber_id,
                                                  email="not an address"))
    digests[3] = bad
    marks = ConflictOn(key=digests[2].digest_key)
    report = send_digests(repo, settings=settings_in(tmp_path), now=NOW, due=fixed(digests),
                          mark=marks, route=None)
    assert [q.digest_key for q in report.queued] == [digests[i].digest_key for i in (0, 1, 4)]
    assert len(report.skipped) == 1 and report.skipped[0].startswith(digests[2].digest_key)
    (problem,) = report.problems
    assert problem.startswith(bad.digest_key) and "single plain address" in problem
    assert [r.digest_key for r in rows(repo)] == [digests[i].digest_key for i in (0, 1, 4)]
    assert report.send is not None and report.send.count(SENT) == 3
