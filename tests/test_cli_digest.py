"""``tracker digest --send``, ``tracker digest --preview`` and ``tracker demo``, run in-process
as a user would (the database is the test's SQLite file or PostgreSQL schema)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html

from tests.builders import INTRO, REFER, bill
from tests.cli_helpers import Outcome, run_cli
from tests.notifiers.mail import body, parse
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.storage.tables import OutboxRow
from tracker.subscriptions import SubscriberProfile

WHEN = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Path:
    (tmp_path / "config").mkdir()
    monkeypatch.setenv("TRACKER_CONFIG", str(tmp_path / "config"))
    monkeypatch.setenv("TRACKER_DATABASE_URL", database_url)
    monkeypatch.setenv("TRACKER_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://tracker.example.org")
    for name in ("TRACKER_SMTP_HOST", "TRACKER_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "outbox"


def follow_one_bill(repo: Repository) -> None:
    with repo.write() as session:
        repo.upsert_bill(session, bill("HB 1", INTRO, REFER, title="Driver privilege cards"),
                         baseline=True, run_id=None, now=WHEN)
        subscriber = store.upsert_subscriber(
            session, SubscriberProfile(email="ana@example.org", name="Ana"), origin="cli",
            now=WHEN)
        store.add_subscription(session, subscriber_id=subscriber.id, target_kind="bill",
                               target="va/2020/HB 1", jurisdictions=(), kinds=(), stages=(),
                               origin="cli", now=WHEN)


def outbox_size(repo: Repository) -> int:
    with repo.read() as session:
        return len(session.query(OutboxRow).all())


def test_send_writes_eml_files_and_prints_them(
    capsys: pytest.CaptureFixture[str], repo: Repository, environment: Path
) -> None:
    follow_one_bill(repo)
    first = run_cli(capsys, "digest", "--send")
    assert first.code == 0, first.err
    sent = [line for line in first.lines() if line.startswith("sent")]
    assert len(sent) == 1
    assert "ana@example.org  Now following VA HB 1: where things stand" in sent[0]
    path = Path(sent[0].rsplit("  ", 1)[1])
    assert path.is_file() and path.suffix == ".eml" and path.is_relative_to(environment)
    assert "Driver privilege cards" in body(parse(path.read_bytes()), "plain")
    assert first.lines()[-1].startswith("1 sent, 0 deferred, 0 failed via files in")
    again = run_cli(capsys, "digest", "--send")
    assert again.code == 0 and again.lines()[-1].startswith("0 sent")
    assert outbox_size(repo) == 1


def test_preview_renders_without_sending(
    capsys: pytest.CaptureFixture[str], repo: Repository, environment: Path, tmp_path: Path
) -> None:
    follow_one_bill(repo)
    page = tmp_path / "preview.html"
    shown = run_cli(capsys, "digest", "--preview", "ana@example.org", "--html", str(page))
    assert shown.code == 0, shown.err
    assert shown.lines()[0] == "Subject: Now following VA HB 1: where things stand"
    assert "You are seeing this because you follow VA HB 1." in shown.out
    assert lxml_html.document_fromstring(page.read_text(encoding="utf-8")).get("lang") == "en"
    assert outbox_size(repo) == 0, "nothing queued"
    assert run_cli(capsys, "digest", "--send").code == 0, "and still due afterwards"
    assert outbox_size(repo) == 1


@pytest.mark.parametrize(("args", "message"), [
    (("digest",), "say --send, or --preview EMAIL"),
    (("digest", "--send", "--preview", "a@b.example"), "say --send, or --preview EMAIL"),
    (("digest", "--send", "--html", "x.html"), "--html FILE goes with --preview EMAIL"),
    (("digest", "--preview", "nobody@example.org"), "no active subscriber nobody@example.org"),
])
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], repo: Repository,
                                   environment: Path, args: tuple[str, ...],
                                   message: str) -> None:
    outcome = run_cli(capsys, *args)
    assert outcome.code == 1
    assert message in outcome.err and len(outcome.err.strip().splitlines()) == 1


def test_smtp_without_secret_key_is_refused_before_sending(
    capsys: pytest.CaptureFixture[str], repo: Repository, environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    follow_one_bill(repo)
    monkeypatch.setenv("TRACKER_SMTP_HOST", "smtp.example.org")
    outcome = run_cli(capsys, "digest", "--send")
    assert outcome.code == 1
    assert outcome.err.startswith("error: TRACKER_SECRET_KEY is not set")
    assert outbox_size(repo) == 0


def demo(capsys: pytest.CaptureFixture[str], folder: Path) -> Outcome:
    return run_cli(capsys, "demo", "--out", str(folder))


def test_demo_runs_offline_and_writes_a_digest_per_language(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outcome = demo(capsys, tmp_path / "tour")
    assert outcome.code == 0, outcome.err
    for step in ("1. Serving", "2. Baseline poll", "3. Three demo subscribers",
                 "4. Upstream change", "5. Instant", "6. The next morning"):
        assert any(line.startswith(step) for line in outcome.lines()), step
    emls = sorted((tmp_path / "tour" / "outbox").rglob("*.eml"))
    printed = {Path(line.strip()) for line in outcome.lines() if line.strip().endswith(".eml")}
    assert printed == set(emls) and len(emls) == 6
    languages = set()
    for path in emls:
        parsed = parse(path.read_bytes())
        languages.add(parsed["Content-Language"])
        page = path.with_suffix(".html")
        assert lxml_html.document_fromstring(page.read_text(encoding="utf-8")).get("lang") == (
            parsed["Content-Language"])
    assert languages == {"en", "ko", "es"}
    daily = [p for p in emls if p.name.startswith("daily_")]
    assert len(daily) == 2, "the next morning's digests, after the upstream change"


def test_demo_refuses_a_folder_in_use(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    outcome = demo(capsys, tmp_path / "busy")
    assert outcome.code == 1 and "folder is not empty" in outcome.err
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["keep.txt"]
