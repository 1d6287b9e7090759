"""Source health (failing, quiet, shrunk) as a table of cases, `tracker sources`' view of it,
and operator alerts: exactly one when a source turns unhealthy, one when it recovers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
import sqlalchemy as sa

from scrapers import REGISTRY
from tracker import alarms
from tracker.health import assess, consecutive_failures, source_statuses
from tracker.settings import MailSettings, Settings, SourceSettings
from tracker.storage.leases_repo import SessionActivity, get_alarm
from tracker.storage.repository import Repository, RunView
from tracker.storage.tables import OutboxRow

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SOURCE = SourceSettings(name="us-govinfo", enabled=True, sessions=("119",), max_failures=3,
                        quiet_period=timedelta(days=14))


def run(status: str, *, id: int = 1, error: str | None = None, fetched: int = 1,
        bills: int = 1, hours_ago: float = 0) -> RunView:
    started = NOW - timedelta(hours=hours_ago)
    return RunView(id=id, source="us-govinfo", started_at=started, finished_at=started,
                   status=status, error=error,
                   counts={"fetched": fetched, "bills_seen": bills, "discovered": fetched})


def runs(*items: RunView) -> list[RunView]:
    """Newest first, with ids counting down."""
    return [RunView(id=len(items) - i, source=r.source, started_at=r.started_at,
                    finished_at=r.finished_at, status=r.status, error=r.error, counts=r.counts)
            for i, r in enumerate(items)]


FRESH = {"119": SessionActivity("119", NOW - timedelta(days=30), NOW - timedelta(days=1))}
FIRST_SUCCESS = NOW - timedelta(days=30)


def problems(history: Sequence[RunView], *, settings: SourceSettings = SOURCE,
             activity: dict[str, SessionActivity] = FRESH,
             first_success: datetime | None = FIRST_SUCCESS) -> tuple[str, ...]:
    return assess(settings=settings, runs=history, activity=activity,
                  first_success=first_success, now=NOW).problems


# -- failing -----------------------------------------------------------------------------------


def test_two_failures_of_three_allowed_are_still_healthy() -> None:
    assert problems(runs(run("failed", error="down"), run("failed"), run("ok"))) == ()


def test_max_failures_in_a_row_make_a_source_unhealthy_naming_the_last_error() -> None:
    history = runs(run("failed", error="http://x/index.xml: connection refused"),
                   run("failed", error="older"), run("failed", error="oldest"), run("ok"))
    assert problems(history) == (
        "3 failed polls in a row; last error: http://x/index.xml: connection refused",
    )


@pytest.mark.parametrize("unfinished", ["running", "stopped", "abandoned"])
def test_unfinished_polls_neither_break_nor_extend_a_failure_streak(unfinished: str) -> None:
    history = runs(run(unfinished), run("failed", error="e1"), run(unfinished),
                   run("failed", error="e2"), run("failed", error="e3"), run("ok"))
    assert consecutive_failures(history) == 3
    assert problems(history)[0].startswith("3 failed polls in a row; last error: e1")


def test_a_success_ends_the_streak() -> None:
    history = runs(run("partial"), run("failed"), run("failed"), run("failed"))
    assert consecutive_failures(history) == 0
    assert problems(history) == ()


# -- quiet -------------------------------------------------------------------------------------


def test_an_active_session_quiet_for_longer_than_its_period_is_a_problem() -> None:
    activity = {"119": SessionActivity("119", NOW - timedelta(days=40), NOW - timedelta(days=15))}
    assert problems(runs(run("ok")), activity=activity) == (
        "session 119: no change since 2026-11-16 12:00 UTC (quiet period 14d)",
    )


def test_quiet_within_the_period_is_fine() -> None:
    activity = {"119": SessionActivity("119", NOW - timedelta(days=40), NOW - timedelta(days=13))}
    assert problems(runs(run("ok")), activity=activity) == ()


def test_a_baseline_counts_as_the_last_change() -> None:
    activity = {"119": SessionActivity("119", NOW - timedelta(days=20), None)}
    assert problems(runs(run("ok")), activity=activity)[0].startswith(
        "session 119: no change since 2026-11-11"
    )


def test_a_session_that_never_yielded_a_bill_counts_from_the_first_success() -> None:
    settings = SourceSettings(name="us-govinfo", enabled=True, sessions=("118", "119"),
                              quiet_period=timedelta(days=14))
    assert problems(runs(run("ok")), settings=settings) == (
        "session 118: no bills at all since 2026-11-01 12:00 UTC (quiet period 14d)",
    )


def test_without_a_quiet_period_or_a_success_there_is_no_quiet_rule() -> None:
    old = {"119": SessionActivity("119", NOW - timedelta(days=90), NOW - timedelta(days=90))}
    no_period = SourceSettings(name="us-govinfo", enabled=True, sessions=("119",))
    assert problems(runs(run("ok")), settings=no_period, activity=old) == ()
    assert problems(runs(run("failed")), activity={}, first_success=None) == ()


# -- shrunk ------------------------------------------------------------------------------------


def test_a_bulk_source_losing_most_of_its_bills_is_a_problem() -> None:
    history = runs(run("ok", fetched=1, bills=1200), run("ok", fetched=0, bills=0),
                   run("ok", fetched=1, bills=3000))
    assert problems(history) == (
        "the last poll read 1200 bills from 1 documents, under half of the 3000 from 1 the "
        "poll before",
    )


def test_an_incremental_source_reading_few_changed_bills_is_not_shrunk() -> None:
    history = runs(run("ok", fetched=3, bills=3), run("ok", fetched=12000, bills=12000))
    assert problems(history) == ()


@pytest.mark.parametrize(
    ("last", "before"),
    [((1, 1500), (1, 3000)), ((1, 4), (1, 9)), ((2, 2), (20, 20))],
    ids=["exactly-half", "too-few-to-judge", "per-document"],
)
def test_shrink_limits(last: tuple[int, int], before: tuple[int, int]) -> None:
    history = runs(run("ok", fetched=last[0], bills=last[1]),
                   run("ok", fetched=before[0], bills=before[1]))
    assert problems(history) == ()


def test_a_full_file_again_clears_the_shrink() -> None:
    history = runs(run("ok", fetched=1, bills=2900), run("ok", fetched=1, bills=1200),
                   run("ok", fetched=1, bills=3000))
    assert problems(history) == ()


def test_a_disabled_source_is_not_judged() -> None:
    disabled = SourceSettings(name="us-govinfo", enabled=False, max_failures=1)
    assert problems(runs(run("failed")), settings=disabled) == ()


# -- against the database ----------------------------------------------------------------------


def settings(*, operator: str | None = "ops@example.org", max_failures: int = 2) -> Settings:
    source = SourceSettings(name="us-govinfo", enabled=True, sessions=("119",),
                            max_failures=max_failures, base_url="http://127.0.0.1:9")
    return Settings(config_dir=Path("."), database_url="",
                    sources={"us-govinfo": source},
                    mail=MailSettings(operator_email=operator, mail_from="tracker@example.org"))


def record_run(repo: Repository, status: str, *, error: str | None = None,
               at: datetime = NOW) -> int:
    with repo.write() as session:
        run_id = repo.start_run(session, source="us-govinfo", now=at)
        repo.finish_run(session, run_id, status=status, error=error, failures=[], now=at,
                        counts={"discovered": 0, "fetched": 0, "bills_seen": 0})
    return run_id


def after(repo: Repository, run_id: int, config: Settings) -> alarms.OperatorAlert | None:
    return alarms.after_poll(repo, source="us-govinfo", run_id=run_id, settings=config,
                             registry=REGISTRY, now=NOW)


def operator_rows(repo: Repository) -> list[tuple[str, str, str]]:
    with repo.read() as session:
        return [tuple(r) for r in session.execute(  # type: ignore[misc]
            sa.select(OutboxRow.digest_key, OutboxRow.recipient, OutboxRow.subject)
            .where(OutboxRow.kind == "operator").order_by(OutboxRow.id))]


def test_sources_shows_an_unhealthy_source_with_its_last_error(repo: Repository) -> None:
    record_run(repo, "ok")
    for _ in range(2):
        record_run(repo, "failed", error="http://127.0.0.1:9/index.xml: connection refused")
    with repo.read() as session:
        status = next(s for s in source_statuses(repo, session, settings=settings(),
                                                 registry=REGISTRY, now=NOW)
                      if s.name == "us-govinfo")
    assert (status.healthy, status.consecutive_failures) == (False, 2)
    assert status.last_error == "http://127.0.0.1:9/index.xml: connection refused"
    assert status.problems == ("2 failed polls in a row; last error: "
                               "http://127.0.0.1:9/index.xml: connection refused",)
    assert status.last_poll == NOW and status.last_success == NOW


def test_one_alert_when_unhealthy_none_while_it_stays_so_one_on_recovery(
    repo: Repository,
) -> None:
    config = settings()
    first = record_run(repo, "failed", error="connection refused")
    assert after(repo, first, config) is None, "one failure of two allowed"
    runs_ids, alerts = [], []
    for _ in range(5):
        runs_ids.append(record_run(repo, "failed", error="connection refused"))
        alerts.append(after(repo, runs_ids[-1], config))
    assert [a.kind if a else None for a in alerts] == ["unhealthy", None, None, None, None]
    assert after(repo, runs_ids[-1], config) is None, "judging the same poll again: no alert"
    recovered = record_run(repo, "ok")
    alert = after(repo, recovered, config)
    assert alert is not None and alert.kind == "recovered"
    assert after(repo, record_run(repo, "ok"), config) is None
    assert operator_rows(repo) == [
        (f"operator:us-govinfo:unhealthy:{runs_ids[0]}", "ops@example.org",
         "[tracker] us-govinfo is unhealthy: 2 failed polls in a row; last error: connection "
         "refused"),
        (f"operator:us-govinfo:recovered:{recovered}", "ops@example.org",
         "[tracker] us-govinfo recovered"),
    ]
    with repo.read() as session:
        state = get_alarm(session, "us-govinfo")
    assert state is not None and (state.state, state.run_id) == ("healthy", recovered)


def test_without_an_operator_address_the_state_is_kept_and_a_warning_logged(
    repo: Repository, caplog: pytest.LogCaptureFixture
) -> None:
    config = settings(operator=None, max_failures=1)
    with caplog.at_level(logging.WARNING, logger="tracker.alarms"):
        alert = after(repo, record_run(repo, "failed", error="boom"), config)
    assert alert is not None and alert.kind == "unhealthy"
    assert operator_rows(repo) == []
    assert "no operator alert: TRACKER_OPERATOR_EMAIL is not set" in caplog.text
    with repo.read() as session:
        state = get_alarm(session, "us-govinfo")
    assert state is not None and state.state == "unhealthy"
    # Setting the address later does not replay the old alert.
    assert after(repo, record_run(repo, "failed", error="boom"), settings()) is None


# -- the message -------------------------------------------------------------------------------


def parts(message: Message) -> dict[str, str]:
    return {part.get_content_type(): part.get_payload(decode=True).decode()  # type: ignore[union-attr]
            for part in message.walk() if not part.is_multipart()}


def test_the_alert_is_text_and_html_with_upstream_text_escaped_and_one_line_subject() -> None:
    hostile = "502 from <script>alert(1)</script>\r\nBcc: victim@example.org"
    alert = alarms.OperatorAlert(source="va-lis", title="Virginia LIS", kind="unhealthy",
                                 problems=(hostile,), run_id=7, at=NOW)
    mail = MailSettings(operator_email="ops@example.org", mail_from="tracker@example.org")
    message = alarms.operator_message(alert, mail=mail, status_hint="tracker sources")
    raw = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert raw["Bcc"] is None
    assert raw["To"] == "ops@example.org"
    assert "\n" not in str(raw["Subject"]) and "\r" not in str(raw["Subject"])
    assert str(raw["Subject"]).startswith("[tracker] va-lis is unhealthy: 502 from <script>")
    body = parts(raw)
    assert "<script>" not in body["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body["text/html"]
    assert "- 502 from <script>alert(1)</script>" in body["text/plain"]
    assert raw["Message-ID"].endswith("@example.org>")
    assert raw["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize(
    ("previous", "healthy", "expected"),
    [(None, True, None), (None, False, "unhealthy"), ("healthy", False, "unhealthy"),
     ("unhealthy", False, None), ("unhealthy", True, "recovered"), ("healthy", True, None)],
)
def test_transition(previous: str | None, healthy: bool, expected: str | None) -> None:
    from tracker.health import Health

    health = Health(() if healthy else ("down",))
    assert alarms.transition(previous, health) == expected


def test_one_line_cuts_long_subjects() -> None:
    assert alarms.one_line("a\tb\n\nc " + "x" * 300, limit=20) == "a b c " + "x" * 13 + "…"
