"""Sources that misbehave, met by a real poll over real sockets: the pipeline with the real
us-govinfo source (real BILLSTATUS samples) and the real va-lis source (a CSV session).

For each fault the promise is the same: the poll reports it in one line naming the URL, keeps
every other bill, stores nothing of the faulty document (and no cursor past it), and the next
poll, the fault gone, stores exactly what was missing. Runs on SQLite, and on PostgreSQL with
TRACKER_TEST_DATABASE_URL.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scrapers.us_govinfo import UsGovinfo
from scrapers.va_lis import VaLis
from tests.faults.upstreams import VIRGINIA_FOLDER, Govinfo, Virginia, bill_key, bill_path
from tests.loopback_http import LoopbackHttp, Reply
from tracker.http import HttpClient
from tracker.pipeline import Pipeline, RunReport
from tracker.settings import Settings, SourceSettings
from tracker.storage.repository import BillFilter, EventFilter, Repository

CAP = 2 * 1024 * 1024
READ_TIMEOUT = 0.5
FAULTY = ("hr", 6658)


class Sleeps(list[float]):
    """The HTTP client's sleeps, recorded instead of slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[LoopbackHttp]:
    with LoopbackHttp() as running:
        yield running


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def pipeline(repo: Repository, server: LoopbackHttp, sleeps: Sleeps, *, name: str,
             sessions: tuple[str, ...]) -> Pipeline:
    source = SourceSettings(name=name, enabled=True, base_url=server.url, sessions=sessions)
    settings = Settings(config_dir=Path("."), database_url="", sources={name: source})
    http = HttpClient(user_agent="faults", min_interval=0, retries=2, read_timeout=READ_TIMEOUT,
                      connect_timeout=2, max_bytes=CAP, retry_after_max=5, sleep=sleeps)
    return Pipeline(settings=settings, repo=repo, http=http,
                    registry={"us-govinfo": UsGovinfo, "va-lis": VaLis})


def stored(repo: Repository, source: str) -> set[str]:
    with repo.read() as session:
        return {bill.key for bill in repo.list_bills(session, BillFilter(source=source))}


def events(repo: Repository) -> list[tuple[str, str]]:
    with repo.read() as session:
        return [(e.bill, e.kind) for e in repo.events(session, EventFilter())]


def one_line(report: RunReport) -> None:
    """The report and each failure read as single lines."""
    assert "\n" not in report.summary_line()
    assert all("\n" not in failure.error for failure in report.failures)


@dataclass(frozen=True)
class Fault:
    reply: Reply
    says: str  # what the one-line failure must say
    times: int = 3  # every attempt (the client tries three times)


def _gzip_bomb() -> bytes:
    # 200 MB of zeros in about 200 KB: decompressed, it passes the cap a hundred times over.
    return gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)


BILL = bill_path(*FAULTY)
FAULTS = {
    "500": Fault(Reply(500, b"Internal Server Error"), "500 Internal Server Error from"),
    "503": Fault(Reply(503, b"Service Unavailable"), "503 Service Unavailable from"),
    "timeout": Fault(Reply(200, b"<late/>", delay=READ_TIMEOUT * 3), "read timed out after 0.5s"),
    "truncated body": Fault(Reply(200, b"<billStatus>" + b" " * 50_000, truncate_to=10_000),
                            "body truncated", times=1),
    "gzip bomb": Fault(Reply(200, _gzip_bomb(), headers={"Content-Encoding": "gzip"}),
                       f"the body passes the {CAP}-byte cap", times=1),
    "past the size cap": Fault(Reply(200, b"<x/>" * (CAP // 4 + 1)),
                               f"Content-Length {CAP + 4} passes the {CAP}-byte cap", times=1),
    "an HTML error page": Fault(
        Reply(200, b"<html><head><title>Error</title></head><body><p>Service temporarily "
                   b"unavailable</p></body></html>", headers={"Content-Type": "text/html"}),
        "not a BILLSTATUS document (root <html>)", times=1),
    "HTML that is not XML": Fault(
        Reply(200, b"<!doctype html><html><body><p>Maintenance<br></body></html>",
              headers={"Content-Type": "text/html"}),
        "not well-formed XML", times=1),
    "valid XML of the wrong shape": Fault(
        Reply(200, b"<billStatus><bill><title>A bill</title></bill></billStatus>"),
        "no congress/number/type", times=1),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_faulty_bill_document_costs_only_that_bill(
    repo: Repository, server: LoopbackHttp, sleeps: Sleeps, fault: Fault
) -> None:
    govinfo = Govinfo(server)
    server.fail(BILL, fault.reply, times=fault.times)
    poller = pipeline(repo, server, sleeps, name="us-govinfo", sessions=("117",))
    started = time.monotonic()
    first = poller.poll("us-govinfo")
    assert time.monotonic() - started < 10, "a fault must not stall the poll"

    one_line(first)
    assert first.status == "partial"
    (failure,) = first.failures
    assert failure.document == server.url + BILL
    assert fault.says in failure.error, failure.error
    assert stored(repo, "us-govinfo") == govinfo.keys() - {bill_key(*FAULTY)}

    second = poller.poll("us-govinfo")
    assert (second.status, second.fetched, second.inserted) == ("ok", 1, 1), second.summary_line()
    assert stored(repo, "us-govinfo") == govinfo.keys()
    assert events(repo).count((bill_key(*FAULTY), "new-bill")) == 1
    third = poller.poll("us-govinfo")
    assert (third.status, third.discovered, third.requests) == ("ok", 0, 1), "all caught up"


def test_429_with_a_short_retry_after_is_waited_out(
    repo: Repository, server: LoopbackHttp, sleeps: Sleeps
) -> None:
    govinfo = Govinfo(server)
    server.fail(BILL, Reply(429, b"slow down", headers={"Retry-After": "3"}))
    report = pipeline(repo, server, sleeps, name="us-govinfo", sessions=("117",)).poll(
        "us-govinfo")
    assert report.status == "ok", report.summary_line()
    assert 3.0 in sleeps, "slept what the server asked"
    assert server.statuses(BILL) == [429, 200]
    assert stored(repo, "us-govinfo") == govinfo.keys()


def test_429_asking_for_too_long_stops_the_poll_and_the_next_one_resumes(
    repo: Repository, server: LoopbackHttp, sleeps: Sleeps
) -> None:
    govinfo = Govinfo(server)
    server.fail(BILL, Reply(429, b"slow down", headers={"Retry-After": "3600"}))
    poller = pipeline(repo, server, sleeps, name="us-govinfo", sessions=("117",))
    first = poller.poll("us-govinfo")
    one_line(first)
    assert first.status == "failed"
    assert first.error is not None and "rate limited until" in first.error
    assert "stopped this poll" in first.error
    assert sleeps == [], "no hour-long sleep in a job thread"
    before = stored(repo, "us-govinfo")
    assert bill_key(*FAULTY) not in before
    assert before, "the bills fetched before the 429 are kept"

    second = poller.poll("us-govinfo")
    assert second.status == "ok", second.summary_line()
    assert stored(repo, "us-govinfo") == govinfo.keys()
    assert len(events(repo)) == len(govinfo.keys()), "each bill once"


@pytest.mark.parametrize("fault", [
    FAULTS["500"], FAULTS["truncated body"], FAULTS["an HTML error page"],
], ids=["500", "truncated", "html"])
def test_a_faulty_sitemap_index_fails_the_run_in_one_line(
    repo: Repository, server: LoopbackHttp, sleeps: Sleeps, fault: Fault
) -> None:
    govinfo = Govinfo(server)
    index = "/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml"
    server.fail(index, fault.reply, times=fault.times)
    poller = pipeline(repo, server, sleeps, name="us-govinfo", sessions=("117",))
    first = poller.poll("us-govinfo")
    one_line(first)
    assert first.status == "failed" and first.error is not None
    assert "sitemapindex.xml" in first.error
    assert stored(repo, "us-govinfo") == set()
    second = poller.poll("us-govinfo")
    assert second.status == "ok"
    assert stored(repo, "us-govinfo") == govinfo.keys()


# --- a CSV source: one document holds the whole session ------------------------------------------

HISTORY = VIRGINIA_FOLDER + "HISTORY.CSV"
BILLS = VIRGINIA_FOLDER + "BILLS.CSV"
CSV_FAULTS = {
    "500 on HISTORY.CSV": (HISTORY, FAULTS["500"]),
    "a truncated BILLS.CSV": (BILLS, Fault(Reply(200, b'"Bill_id"\r\n' * 5000, truncate_to=2000),
                                           "body truncated", times=1)),
    "an HTML page for BILLS.CSV": (BILLS, Fault(Reply(
        200, b"<html>\n<body>\n<h1>Site maintenance</h1>\n</body>\n</html>\n",
        headers={"Content-Type": "text/html"}), "no 'Bill_id' column", times=1)),
    "a CSV of the wrong shape": (BILLS, Fault(Reply(200, b'"Name","Date"\r\n"a","b"\r\n'),
                                              "no 'Bill_id' column", times=1)),
}


@pytest.mark.parametrize(("path", "fault"), CSV_FAULTS.values(), ids=CSV_FAULTS.keys())
def test_a_faulty_session_file_keeps_the_stored_session_and_recovers(
    repo: Repository, server: LoopbackHttp, sleeps: Sleeps, path: str, fault: Fault
) -> None:
    Virginia(server)
    server.fail(path, fault.reply, times=fault.times)
    poller = pipeline(repo, server, sleeps, name="va-lis", sessions=("2026",))
    first = poller.poll("va-lis")
    one_line(first)
    assert first.status in ("failed", "partial")
    said = first.error or " ".join(f.error for f in first.failures)
    assert fault.says in said and path.rsplit("/", 1)[-1] in said, said
    assert stored(repo, "va-lis") == set(), "nothing of a broken session stored"

    second = poller.poll("va-lis")
    assert second.status == "ok", second.summary_line()
    assert len(stored(repo, "va-lis")) == 4
    assert len(events(repo)) == 4, "each bill's new-bill once"
