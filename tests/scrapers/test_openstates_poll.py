"""openstates polled through the pipeline from a loopback Open States (a real ``http.server``
on 127.0.0.1, so that 429 retries really sleep through the injected sleep): the cursor, the
quiet poll of one page, no second request per bill, 429 with Retry-After, walks longer than
one poll resumed without losing a bill, the key kept in its header, and the free tier's pace
on the real host."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import sqlalchemy as sa
from requests import PreparedRequest

import scrapers.openstates as openstates
from scrapers.openstates import Openstates
from tests.conftest import PROJECT_FIXTURES
from tracker.errors import SourceError
from tracker.http import HttpClient
from tracker.models import BillKey, Stage
from tracker.pipeline import Pipeline, RunReport
from tracker.records import BillRef
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext
from tracker.storage.repository import Repository

KEY = "OsTestKey-0123456789abcdef"
PAIR = "ny:2025-2026"
PAGE = PROJECT_FIXTURES / "openstates" / "bills-ny-2025-2026-page-1.json"
Answer = tuple[int, dict[str, str], bytes]


def fixture_bills() -> list[dict[str, Any]]:
    bills: list[dict[str, Any]] = json.loads(PAGE.read_bytes())["results"]
    return bills


def numbered_bill(n: int, updated_at: datetime) -> dict[str, Any]:
    """A copy of the fixture's S 1234 as bill S {n}, updated at ``updated_at``."""
    bill = copy.deepcopy(fixture_bills()[0])
    bill["id"] = f"ocd-bill/00000000-0000-4000-8000-{n:012d}"
    bill["identifier"] = f"S {n}"
    bill["updated_at"] = updated_at.isoformat()
    return bill


class FakeOpenStates:
    """``/bills`` and ``/bills/ocd-bill/<uuid>`` as api-v3 answers them, including its habit
    of comparing ``updated_since`` with the text of its timestamps (``2025-03-14 05:01:23``)."""

    def __init__(self, bills: list[dict[str, Any]]) -> None:
        self.bills = bills
        self.queued: list[Answer] = []
        self.calls: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []

    def answer(self, url: str, headers: Mapping[str, str]) -> Answer:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.calls.append((parts.path, query, {k.lower(): v for k, v in headers.items()}))
        if self.queued:
            return self.queued.pop(0)
        if headers.get("X-API-KEY") != KEY:
            return 401, {}, b'{"detail": "Invalid API key"}'
        if parts.path.startswith("/bills/ocd-bill/"):
            wanted = parts.path.removeprefix("/bills/")
            found = [b for b in self.bills if b["id"] == wanted]
            return (200, {}, json.dumps(found[0]).encode()) if found else (404, {}, b"{}")
        return self._page(query)

    def _page(self, query: dict[str, list[str]]) -> Answer:
        assert query["jurisdiction"] == ["ny"] and query["session"] == ["2025-2026"]
        assert query["sort"] == ["updated_desc"]
        bills = sorted(self.bills, key=lambda b: b["updated_at"], reverse=True)
        if "updated_since" in query:
            since = query["updated_since"][0]
            bills = [b for b in bills if b["updated_at"].replace("T", " ") >= since]
        per_page, page = int(query["per_page"][0]), int(query["page"][0])
        max_page = max(1, -(-len(bills) // per_page))
        if page > max_page:
            return 404, {}, json.dumps({"detail": f"invalid page, must be in [1, {max_page}]"}
                                       ).encode()
        pagination = {"per_page": per_page, "page": page, "max_page": max_page,
                      "total_items": len(bills)}
        results = bills[(page - 1) * per_page:page * per_page]
        return 200, {}, json.dumps({"results": results, "pagination": pagination}).encode()

    def pages_read(self) -> list[int]:
        return [int(q["page"][0]) for path, q, _ in self.calls if path == "/bills"]


@pytest.fixture
def upstream() -> FakeOpenStates:
    return FakeOpenStates(fixture_bills())


@pytest.fixture
def base(upstream: FakeOpenStates) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = upstream.answer(f"http://loopback{self.path}", self.headers)
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json",
                                "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_pipeline(
    repo: Repository, tmp_path: Path, *, base_url: str | None, time: FakeTime | None = None,
    environ: dict[str, str] | None = None,
) -> Pipeline:
    settings = Settings(
        config_dir=tmp_path, database_url="",
        sources={"openstates": SourceSettings(
            name="openstates", enabled=True, base_url=base_url, sessions=(PAIR,),
            key_env=("OPENSTATES_API_KEY",), lead=False,
        )},
        environ={"OPENSTATES_API_KEY": KEY} if environ is None else environ,
    )  # fmt: skip
    time = time or FakeTime()
    http = HttpClient(user_agent="test", min_interval=0, retries=2, backoff_factor=0,
                      sleep=time.sleep, clock=time.clock)
    return Pipeline(settings=settings, repo=repo, http=http,
                    registry={"openstates": Openstates}, clock=Clock())


def ok(report: RunReport) -> RunReport:
    assert report.status == "ok", (report.error, report.failures)
    return report


def state(repo: Repository, url: str) -> str | None:
    with repo.read() as session:
        found = repo.fetch_state(session, url)
    return found.lastmod if found else None


def list_url(base: str) -> str:
    return f"{base}/bills?jurisdiction=ny&session=2025-2026"


def bill_count(repo: Repository) -> int:
    with repo.read() as session:
        return repo.count_bills(session, source="openstates")


# ----------------------------------------------------------------------------------------------


def test_first_poll_is_one_page_with_the_key_in_its_header(
    repo: Repository, tmp_path: Path, upstream: FakeOpenStates, base: str
) -> None:
    report = ok(make_pipeline(repo, tmp_path, base_url=base).poll("openstates"))
    assert (report.discovered, report.inserted, report.requests) == (3, 3, 1)
    ((path, query, headers),) = upstream.calls
    assert path == "/bills"
    assert query == {"jurisdiction": ["ny"], "session": ["2025-2026"], "sort": ["updated_desc"],
                     "per_page": ["20"], "include": ["actions", "sponsorships", "versions",
                                                     "abstracts"], "page": ["1"]}
    assert headers["x-api-key"] == KEY
    with repo.read() as session:
        stored = repo.get_bill(session, BillKey("ny", "2025", "A 89"))
    assert stored is not None and stored.stage is Stage.ENACTED
    assert state(repo, list_url(base)) == "2025-03-14T05:01:23.123456+00:00"
    assert state(repo, f"{list_url(base)}#walk") == ""
    with repo.engine.connect() as connection:
        assert KEY not in str(connection.execute(sa.text("SELECT * FROM fetch_state")).all())


def test_a_quiet_poll_is_one_page_from_the_day_before_the_cursor(
    repo: Repository, tmp_path: Path, upstream: FakeOpenStates, base: str
) -> None:
    pipeline = make_pipeline(repo, tmp_path, base_url=base)
    ok(pipeline.poll("openstates"))
    upstream.calls.clear()
    quiet = ok(pipeline.poll("openstates"))
    assert (quiet.discovered, quiet.requests) == (0, 1)
    assert upstream.calls[0][1]["updated_since"] == ["2025-03-13"]


def test_a_changed_bill_needs_no_second_request(
    repo: Repository, tmp_path: Path, upstream: FakeOpenStates, base: str
) -> None:
    pipeline = make_pipeline(repo, tmp_path, base_url=base)
    ok(pipeline.poll("openstates"))
    bill = upstream.bills[0]
    bill["updated_at"] = "2025-03-20T06:00:00+00:00"
    bill["actions"].append({
        "organization": {"id": "x", "name": "Assembly", "classification": "lower"},
        "description": "referred to governmental operations", "date": "2025-03-19",
        "classification": ["referral-committee"], "order": 6})  # fmt: skip
    upstream.calls.clear()
    again = ok(pipeline.poll("openstates"))
    assert (again.fetched, again.updated, again.requests) == (1, 1, 1)
    assert state(repo, list_url(base)) == "2025-03-20T06:00:00+00:00"


def test_a_429_is_retried_after_its_retry_after(
    repo: Repository, tmp_path: Path, upstream: FakeOpenStates, base: str
) -> None:
    upstream.queued.append((429, {"Retry-After": "5"}, b'{"detail": "too many requests"}'))
    time = FakeTime()
    report = ok(make_pipeline(repo, tmp_path, base_url=base, time=time).poll("openstates"))
    assert time.sleeps == [5.0]
    assert (report.inserted, report.requests) == (3, 2)


def test_a_long_retry_after_stops_the_poll_with_one_line(
    repo: Repository, tmp_path: Path, upstream: FakeOpenStates, base: str
) -> None:
    upstream.queued.append((429, {"Retry-After": "3600"}, b'{"detail": "daily limit"}'))
    report = make_pipeline(repo, tmp_path, base_url=base).poll("openstates")
    assert report.status == "failed"
    assert report.error is not None and "\n" not in report.error
    assert report.error.startswith(f"429 Too Many Requests from {list_url(base)}&sort=")
    assert "asked to wait 3600s" in report.error
    assert KEY not in report.error
    assert state(repo, list_url(base)) is None


def test_a_keyless_poll_fails_with_the_variable_to_set(
    upstream: FakeOpenStates, base: str
) -> None:
    with pytest.raises(SourceError) as caught:
        list(direct(base_url=base, environ={}).discover(since=None))
    assert str(caught.value) == "openstates: disabled: no API key; set OPENSTATES_API_KEY"
    assert upstream.calls == []


def test_a_long_walk_goes_on_where_it_stopped_and_loses_no_bill(
    repo: Repository, tmp_path: Path, upstream: FakeOpenStates, base: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(openstates, "MAX_PAGES_PER_POLL", 2)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    upstream.bills = [numbered_bill(n, start + timedelta(minutes=n)) for n in range(1, 91)]
    pipeline = make_pipeline(repo, tmp_path, base_url=base)

    first = ok(pipeline.poll("openstates"))
    assert (upstream.pages_read(), first.inserted) == ([1, 2], 40)
    assert state(repo, list_url(base)) is None, "no cursor before the walk is done"
    top = (start + timedelta(minutes=90)).isoformat()
    assert state(repo, f"{list_url(base)}#walk") == f"{top}|3"

    # Three bills change meanwhile: they sort to the front and push the rest back.
    for n in (5, 60, 91):
        upstream.bills = [b for b in upstream.bills if b["identifier"] != f"S {n}"]
        upstream.bills.append(numbered_bill(n, start + timedelta(days=1, minutes=n)))
    upstream.calls.clear()
    second = ok(pipeline.poll("openstates"))
    assert upstream.pages_read() == [1, 3]  # the updates on page 1, then on from page 3
    # S 91 and S 5 are new here, S 60 was stored: an update. Page 3 now begins with S 52 and
    # S 51 (three bills came to the front, S 60 from before them), which the first poll stored
    # and which are not yielded again, then 18 bills never seen.
    assert (second.discovered, second.inserted, second.updated) == (21, 20, 1)

    polls = 2
    while state(repo, list_url(base)) is None:
        ok(pipeline.poll("openstates"))
        polls += 1
        assert polls < 10
    assert bill_count(repo) == 91
    with repo.read() as session:
        s60 = repo.get_bill(session, BillKey("ny", "2025", "S 60"))
    assert s60 is not None
    assert s60.upstream_updated_at == start + timedelta(days=1, minutes=60)
    assert state(repo, f"{list_url(base)}#walk") == ""
    assert state(repo, list_url(base)) == (start + timedelta(days=1, minutes=91)).isoformat()


def test_a_bill_that_fails_in_a_walk_holds_the_walk_back(
    repo: Repository, tmp_path: Path, upstream: FakeOpenStates, base: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(openstates, "MAX_PAGES_PER_POLL", 2)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    upstream.bills = [numbered_bill(n, start + timedelta(minutes=n)) for n in range(1, 61)]
    bad = next(b for b in upstream.bills if b["identifier"] == "S 30")  # on page 2
    bad["identifier"] = "S 30B"
    pipeline = make_pipeline(repo, tmp_path, base_url=base)
    first = pipeline.poll("openstates")
    assert (first.status, first.inserted) == ("partial", 39)
    top = (start + timedelta(minutes=60)).isoformat()
    assert state(repo, f"{list_url(base)}#walk") == f"{top}|2", "the mark stays before page 2"
    bad["identifier"] = "S 30"
    upstream.calls.clear()
    second = ok(pipeline.poll("openstates"))
    assert upstream.pages_read() == [1, 2]
    assert second.inserted == 1
    with repo.read() as session:
        assert repo.get_bill(session, BillKey("ny", "2025", "S 30")) is not None


# -- the source alone (no database) -------------------------------------------------------------


class NoState:
    def get(self, url: str) -> None:
        return None

    def lastmods(self, *, prefix: str) -> dict[str, str]:
        return {}

    def body(self, url: str) -> None:
        return None


def direct(
    *, base_url: str | None, environ: dict[str, str] | None = None, time: FakeTime | None = None
) -> Openstates:
    time = time or FakeTime()
    settings = SourceSettings(name="openstates", base_url=base_url, sessions=(PAIR,),
                              key_env=("OPENSTATES_API_KEY",))
    http = HttpClient(user_agent="test", min_interval=0, retries=0, sleep=time.sleep,
                      clock=time.clock)
    return Openstates(SourceContext(
        settings=settings, http=http, state=NoState(),
        environ={"OPENSTATES_API_KEY": KEY} if environ is None else environ))  # fmt: skip


def test_a_ref_not_listed_by_this_instance_is_fetched_from_its_detail_endpoint(
    upstream: FakeOpenStates, base: str
) -> None:
    source = direct(base_url=base)
    bill_id = fixture_bills()[1]["id"]
    fetched = source.fetch(BillRef(source="openstates", url=f"{base}/bills/{bill_id}",
                                   session="2025-2026", lastmod="x"))
    ((path, query, headers),) = upstream.calls
    assert path == f"/bills/{bill_id}"
    assert query["include"] == ["actions", "sponsorships", "versions", "abstracts"]
    assert headers["x-api-key"] == KEY
    (record,) = source.parse(fetched)
    assert record.identifier == "A 89"


def test_the_real_host_is_polled_at_most_once_per_6_5_seconds() -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    fake = FakeOpenStates([numbered_bill(n, start + timedelta(minutes=n)) for n in range(1, 31)])

    def answer(request: PreparedRequest) -> Answer:
        return fake.answer(request.url or "", request.headers)

    time = FakeTime()
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.GET, "https://v3.openstates.org/bills", callback=answer)
        source = direct(base_url=None, time=time)
        refs = [item for item in source.discover(since=None) if isinstance(item, BillRef)]
    assert (fake.pages_read(), len(refs)) == ([1, 2], 30)
    assert time.sleeps == [6.5]
