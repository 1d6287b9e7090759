"""il-ilga end to end: the project-written listing and bill files served by ``responses`` at
``http://ilga.test`` through the real HttpClient, polled into the store by the pipeline.
Runs on SQLite, and on PostgreSQL when TRACKER_TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import responses

from scrapers.il_ilga import IlIlga
from tracker.http import HttpClient
from tracker.models import BillKey
from tracker.pipeline import Pipeline, RunReport
from tracker.settings import Settings, SourceSettings
from tracker.storage.repository import BillFilter, EventFilter, Repository, UpsertResult

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "il-ilga"
BASE = "http://ilga.test"
LISTING = f"{BASE}/ftp/legislation/104/BillStatus/XML/"
STAGES = {
    "il/104/HB 875": "reported",
    "il/104/HB 1596": "enacted",
    "il/104/HB 2100": "failed",
    "il/104/HB 3466": "in-committee",
    "il/104/HR 123": "adopted",
    "il/104/SB 34": "failed",
    "il/104/SB 1220": "vetoed",
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


class Upstream:
    """What ilga.test serves: the listing and the bill files, each swappable between polls,
    and a count of the requests each URL received."""

    def __init__(self) -> None:
        self.listing = (FIXTURES / "listing.html").read_bytes()
        self.files = {p.name: p.read_bytes() for p in (FIXTURES / "xml").iterdir()}
        self.status: dict[str, int] = {}
        self.hits: Counter[str] = Counter()

    def change_hb3466(self) -> None:
        self.listing = (FIXTURES / "changed" / "listing.html").read_bytes()
        self.files["10400HB3466.xml"] = (FIXTURES / "changed" / "10400HB3466.xml").read_bytes()

    def serve(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.GET, LISTING, callback=self._answer)
        for name in self.files:
            rsps.add_callback(responses.GET, LISTING + name, callback=self._answer)

    def _answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        url = str(request.url)
        self.hits[url] += 1
        status = self.status.get(url, 200)
        if status != 200:
            return status, {}, b"unavailable"
        if url == LISTING:
            return 200, {"Content-Type": "text/html"}, self.listing
        return 200, {"Content-Type": "text/xml"}, self.files[url.rsplit("/", 1)[1]]

    def total(self) -> int:
        return sum(self.hits.values())


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    served = Upstream()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        served.serve(rsps)
        yield served


@pytest.fixture
def stored() -> list[UpsertResult]:
    return []


@pytest.fixture
def pipeline(repo: Repository, tmp_path: Path, stored: list[UpsertResult]) -> Pipeline:
    source = SourceSettings(name="il-ilga", enabled=True, base_url=BASE, sessions=("104",))
    settings = Settings(config_dir=tmp_path, database_url="", sources={"il-ilga": source})
    http = HttpClient(user_agent="test", min_interval=0, retries=0, sleep=lambda s: None)
    return Pipeline(
        settings=settings, repo=repo, http=http, registry={"il-ilga": IlIlga}, clock=Clock(),
        on_stored=lambda session, result: stored.append(result),
    )


def stages(repo: Repository) -> dict[str, str]:
    with repo.read() as session:
        return {b.key: b.stage for b in repo.list_bills(session, BillFilter(source="il-ilga"))}


def fresh_events(repo: Repository) -> list[tuple[str, str, dict[str, object]]]:
    with repo.read() as session:
        return [(e.bill, e.kind, e.details) for e in repo.events(session, EventFilter())
                if not e.baseline]


def baseline(pipeline: Pipeline) -> RunReport:
    report = pipeline.poll("il-ilga")
    assert report.status == "ok", report.error or report.failures
    return report


def test_first_poll_stores_every_bill_then_a_no_change_poll_fetches_only_the_listing(
    pipeline: Pipeline, repo: Repository, upstream: Upstream
) -> None:
    first = baseline(pipeline)
    assert (first.discovered, first.fetched, first.inserted, first.events) == (7, 7, 7, 7)
    assert upstream.hits[LISTING] == 1 and upstream.total() == 8
    assert stages(repo) == STAGES
    assert fresh_events(repo) == []  # the first poll is a baseline

    again = pipeline.poll("il-ilga")
    assert (again.status, again.discovered, again.fetched, again.events) == ("ok", 0, 0, 0)
    assert upstream.hits[LISTING] == 2 and upstream.total() == 9  # the listing, nothing else


def test_a_shell_bill_amendment_retitles_the_bill_and_only_its_file_is_fetched(
    pipeline: Pipeline, repo: Repository, upstream: Upstream, stored: list[UpsertResult]
) -> None:
    baseline(pipeline)
    before = upstream.total()
    stored.clear()
    upstream.change_hb3466()
    report = pipeline.poll("il-ilga")
    assert (report.status, report.discovered, report.fetched, report.updated) == ("ok", 1, 1, 1)
    assert upstream.total() - before == 2
    assert upstream.hits[LISTING + "10400HB3466.xml"] == 2
    events = fresh_events(repo)
    assert {bill for bill, _, _ in events} == {"il/104/HB 3466"}
    kinds = Counter(kind for _, kind, _ in events)
    assert kinds == {"title-change": 1, "new-action": 7, "stage-change": 1}
    title = next(details for _, kind, details in events if kind == "title-change")
    assert title == {"from": "INSURANCE-TECH", "to": "LANGUAGE ACCESS-STATE AGENCIES"}
    # the topic-matching hook saw the new content
    (result,) = stored
    assert result.kind == "update"
    assert result.after.extras["shell_bill"] is True
    assert "State Agency Language Access Act" in result.after.summary
    with repo.read() as session:
        bill = repo.get_bill(session, BillKey("il", "104", "HB 3466"))
    assert bill is not None and bill.stage.value == "reported"
    assert pipeline.poll("il-ilga").events == 0


def test_an_unreachable_listing_fails_in_one_line_and_the_next_poll_recovers(
    pipeline: Pipeline, repo: Repository, upstream: Upstream
) -> None:
    baseline(pipeline)
    upstream.change_hb3466()
    upstream.status[LISTING] = 503
    failed = pipeline.poll("il-ilga")
    assert failed.status == "failed"
    assert failed.error == f"503 Service Unavailable from {LISTING} after 0 retries"
    upstream.status.clear()
    recovered = pipeline.poll("il-ilga")
    assert (recovered.status, recovered.discovered, recovered.updated) == ("ok", 1, 1)
    assert stages(repo)["il/104/HB 3466"] == "reported"


def test_a_failed_bill_file_is_retried_and_the_others_are_not(
    pipeline: Pipeline, repo: Repository, upstream: Upstream
) -> None:
    broken = LISTING + "10400HB1596.xml"
    upstream.status[broken] = 500
    partial = pipeline.poll("il-ilga")
    assert (partial.status, partial.inserted, partial.failed) == ("partial", 6, 1)
    assert partial.failures[0].document == broken
    assert partial.failures[0].error == f"500 Internal Server Error from {broken} after 0 retries"
    upstream.status.clear()
    retried = pipeline.poll("il-ilga")
    assert (retried.status, retried.discovered, retried.inserted) == ("ok", 1, 1)
    assert upstream.hits[broken] == 2
    assert all(upstream.hits[LISTING + name] == 1 for name in upstream.files
               if LISTING + name != broken)
    assert stages(repo) == STAGES


def test_an_empty_listing_is_an_error_not_no_change(
    pipeline: Pipeline, upstream: Upstream
) -> None:
    upstream.listing = b""
    report = pipeline.poll("il-ilga")
    assert report.status == "failed"
    assert report.error == f"il-ilga: {LISTING} lists no bill status files for GA 104"


def test_a_listing_in_another_format_fails_loudly(pipeline: Pipeline, upstream: Upstream) -> None:
    upstream.listing = b"<html><body><table><tr><td>10400HB0001.xml</td></tr></table></body></html>"
    report = pipeline.poll("il-ilga")
    assert report.status == "failed"
    assert report.error is not None
    assert report.error.startswith(f"{LISTING}: no entries in the directory listing")
