"""us-govinfo end to end: a loopback copy of govinfo (real samples), polled into the store.

Runs on SQLite, and on PostgreSQL when TRACKER_TEST_DATABASE_URL is set: both must give the
same bills, stages and events (compared with one golden snapshot).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scrapers.us_govinfo import UsGovinfo
from tests.govinfo_mirror import BASE, EXPECTED_STAGES, SESSIONS, Mirror, serving
from tracker.http import HttpClient
from tracker.pipeline import Pipeline
from tracker.settings import Settings, SourceSettings
from tracker.storage.repository import BillFilter, EventFilter, Repository

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "us-govinfo-poll.json"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    with serving() as served:
        yield served


def amend_golden_bill(served: Mirror) -> None:
    """The upstream change the golden snapshot was taken after: S 967's title amended."""
    path = "/bulkdata/BILLSTATUS/117/s/BILLSTATUS-117s967.xml"
    served.change_bill(
        ("117", "s", 967),
        served.documents[path].replace(
            b"Adoptee Citizenship Act of 2021", b"Adoptee Citizenship Act of 2021 (amended)"
        ),
        "2026-11-30T10:00:00.000Z",
    )


@pytest.fixture
def pipeline(repo: Repository, tmp_path: Path) -> Pipeline:
    settings = Settings(
        config_dir=tmp_path,
        database_url="",
        sources={
            "us-govinfo": SourceSettings(
                name="us-govinfo", enabled=True, sessions=SESSIONS, base_url=BASE
            )
        },
    )
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    return Pipeline(
        settings=settings, repo=repo, http=http, registry={"us-govinfo": UsGovinfo}, clock=Clock()
    )


def snapshot(repo: Repository) -> dict[str, object]:
    with repo.read() as session:
        bills = {
            b.key: [b.stage, b.title, str(b.last_action_date)]
            for b in repo.list_bills(session, BillFilter())
        }
        events = [
            [e.bill, e.kind, e.baseline, e.details.get("description", e.details.get("to"))]
            for e in repo.events(session, EventFilter())
        ]
    return {"bills": bills, "events": events}


def test_poll_stores_every_bill_with_its_stage(
    pipeline: Pipeline, repo: Repository, mirror: Mirror
) -> None:
    served = mirror
    report = pipeline.poll("us-govinfo")
    assert report.status == "ok", report.failures
    assert (report.inserted, report.failed) == (13, 0)
    with repo.read() as session:
        stages = {b.key: b.stage for b in repo.list_bills(session, BillFilter())}
    assert stages == EXPECTED_STAGES
    assert served.bill_fetches() == 13


def test_second_poll_with_nothing_changed_is_one_conditional_request(
    pipeline: Pipeline, repo: Repository, mirror: Mirror
) -> None:
    served = mirror
    pipeline.poll("us-govinfo")
    served.hits.clear()
    again = pipeline.poll("us-govinfo")
    assert again.status == "ok"
    assert again.requests == 1 and served.requests() == 1  # the index, answered 304
    assert served.bill_fetches() == 0
    assert again.events == 0


def test_upstream_change_fetches_only_the_changed_bill(
    pipeline: Pipeline, repo: Repository, mirror: Mirror
) -> None:
    served = mirror
    pipeline.poll("us-govinfo")
    # HR 1593 gains a (made-up) action upstream: the bill file and its sitemap entries move.
    path = "/bulkdata/BILLSTATUS/117/hr/BILLSTATUS-117hr1593.xml"
    body = served.documents[path].replace(
        b"<actions>",
        b"<actions><item><actionDate>2021-06-01</actionDate><text>Subcommittee Hearings "
        b"Held.</text><type>Committee</type><actionCode>H12000</actionCode><sourceSystem>"
        b"<code>1</code><name>House committee actions</name></sourceSystem></item>",
        1,
    )
    served.change_bill(("117", "hr", 1593), body, "2026-11-30T10:00:00.000Z")
    served.hits.clear()
    report = pipeline.poll("us-govinfo")
    assert (report.status, report.updated, report.inserted) == ("ok", 1, 0)
    assert served.bill_fetches() == 1
    with repo.read() as session:
        latest = [e for e in repo.events(session, EventFilter(include_baseline=False))]
    assert [(e.bill, e.kind) for e in latest] == [("us/117/HR 1593", "new-action")]
    assert latest[0].details["description"] == "Subcommittee Hearings Held."


def test_a_broken_bill_file_is_isolated_and_retried(
    pipeline: Pipeline, repo: Repository, mirror: Mirror
) -> None:
    served = mirror
    good = served.documents["/bulkdata/BILLSTATUS/117/hr/BILLSTATUS-117hr6.xml"]
    served.documents["/bulkdata/BILLSTATUS/117/hr/BILLSTATUS-117hr6.xml"] = good[:5000]
    report = pipeline.poll("us-govinfo")
    assert (report.status, report.inserted, report.failed) == ("partial", 12, 1)
    assert "BILLSTATUS-117hr6.xml" in report.failures[0].error
    served.documents["/bulkdata/BILLSTATUS/117/hr/BILLSTATUS-117hr6.xml"] = good
    served.hits.clear()
    retry = pipeline.poll("us-govinfo")
    assert (retry.status, retry.inserted) == ("ok", 1)
    assert served.bill_fetches() == 1  # only the one that failed


def test_sqlite_and_postgresql_give_the_same_history(
    pipeline: Pipeline, repo: Repository, mirror: Mirror
) -> None:
    served = mirror
    pipeline.poll("us-govinfo")
    amend_golden_bill(served)
    pipeline.poll("us-govinfo")
    got = snapshot(repo)
    if os.environ.get("TRACKER_UPDATE_GOLDEN"):  # rewrite it on purpose, review, commit
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    assert got == json.loads(GOLDEN.read_text())
