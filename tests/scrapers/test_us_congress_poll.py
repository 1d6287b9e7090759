"""us-congress polled through the pipeline from a loopback congress.gov (``responses``) serving
the recorded H.R. 21 answers: the cursor, the quiet poll of one list request, paging, the
per-poll cap, failures, the key, and the 5,000-an-hour pace on the real host."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
import sqlalchemy as sa
from requests import PreparedRequest

import scrapers.us_congress as us_congress
from scrapers.us_congress import UsCongress
from tests.conftest import shared
from tracker.errors import SourceError
from tracker.http import HttpClient
from tracker.models import BillKey, Stage
from tracker.pipeline import Pipeline, RunReport
from tracker.records import BillRef
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext
from tracker.storage.repository import Repository

BASE = "http://congress.test/v3"
REAL = "https://api.congress.gov/v3"
KEY = "CgTestKey-0123456789abcdef"
SUBS = {"actions": "bill_117_hr_21_actions.txt", "subjects": "bill_117_hr_21_subjects.txt",
        "summaries": "bill_117_hr_21_summaries.txt", "text": "bill_117_hr_21_text.txt",
        "titles": "bill_117_hr_21_titles.txt"}


def recorded(name: str) -> bytes:
    return shared("congress-gov-api", name).read_bytes()


def hr21_listed(**changes: Any) -> dict[str, Any]:
    """H.R. 21 as a list item, from the values of its recorded item."""
    bill = json.loads(recorded("bill_117_hr_21.txt"))["bill"]
    item = {"congress": 117, "type": "HR", "number": "21", "title": bill["title"],
            "originChamber": "House", "updateDate": bill["updateDate"],
            "updateDateIncludingText": bill["updateDate"],
            "latestAction": {"actionDate": bill["latestAction"]["actionDate"],
                             "text": bill["latestAction"]["text"]},
            "url": "https://api.congress.gov/v3/bill/117/hr/21?format=json"}
    return item | changes


def hr22_item() -> bytes:
    """A new bill with nothing yet but its item (every count zero)."""
    stub = {"count": 0, "url": "x"}
    return json.dumps({"bill": {
        "congress": 117, "type": "HR", "number": "22", "title": "A new bill",
        "originChamber": "House", "updateDate": "2022-03-26T10:00:00Z", "sponsors": [],
        "actions": stub, "subjects": stub, "summaries": stub, "textVersions": stub,
        "titles": stub, "latestAction": {"actionDate": "2022-03-26", "text": "Introduced"},
    }, "request": {"congress": "117", "billType": "hr", "billNumber": "22"}}).encode()


HR22_LISTED = {"congress": 117, "type": "HR", "number": "22", "updateDate": "2022-03-26T10:00:00Z",
               "latestAction": {"actionDate": "2022-03-26", "text": "Introduced"}}


class FakeCongress:
    """The /bill list (filtered and sorted as the API does) and the bills' answers."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.listed: list[dict[str, Any]] = [hr21_listed()]
        #: path -> the answer, an HTTP status, or pages by offset.
        self.answers: dict[str, bytes | int | dict[str, bytes]] = {
            "bill/117/hr/21": recorded("bill_117_hr_21.txt"), "bill/117/hr/22": hr22_item()}
        for path, name in SUBS.items():
            self.answers[f"bill/117/hr/21/{path}"] = recorded(name)
        self.honour_from = True
        self.calls: list[tuple[str, dict[str, str]]] = []

    def serve(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.GET, re_prefix(self.origin), callback=self._answer)

    def _answer(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(request.url or "")
        path = parts.path.removeprefix(urlsplit(self.origin).path).strip("/")
        query = dict(parse_qsl(parts.query))
        self.calls.append((path, query))
        if path == "bill/117":
            return 200, {}, self._list(query)
        found = self.answers.get(path, 404)
        if isinstance(found, dict):
            found = found[query.get("offset", "0")]
        if isinstance(found, int):
            return found, {}, b'{"error": "not here"}'
        return 200, {}, found

    def _list(self, query: dict[str, str]) -> bytes:
        bills = sorted(self.listed, key=lambda b: b["updateDate"], reverse=True)
        since = query.get("fromDateTime")
        if since and self.honour_from:
            bills = [b for b in bills if b["updateDate"] >= since]
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
        page = bills[offset:offset + limit]
        pagination: dict[str, Any] = {"count": len(bills)}
        if offset + limit < len(bills):
            pagination["next"] = f"{self.origin}/bill/117?offset={offset + limit}"
        return json.dumps({"bills": page, "pagination": pagination}).encode()

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]


def re_prefix(origin: str) -> re.Pattern[str]:
    return re.compile(re.escape(origin) + r"/.*")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def upstream() -> Iterator[FakeCongress]:
    fake = FakeCongress(BASE)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.serve(rsps)
        yield fake


def make_pipeline(
    repo: Repository, tmp_path: Path, *, base_url: str | None = BASE,
    environ: dict[str, str] | None = None, http: HttpClient | None = None,
) -> Pipeline:
    settings = Settings(
        config_dir=tmp_path, database_url="",
        sources={"us-congress": SourceSettings(
            name="us-congress", enabled=True, base_url=base_url, sessions=("117",),
            interval=timedelta(hours=1), key_env=("CONGRESS_API_KEY", "DATA_GOV_API_KEY"),
        )},
        environ={"CONGRESS_API_KEY": KEY} if environ is None else environ,
    )  # fmt: skip
    client = http or HttpClient(user_agent="test", min_interval=0, retries=0,
                                sleep=lambda s: None)
    return Pipeline(settings=settings, repo=repo, http=client,
                    registry={"us-congress": UsCongress}, clock=Clock())


@pytest.fixture
def pipeline(repo: Repository, tmp_path: Path) -> Pipeline:
    return make_pipeline(repo, tmp_path)


def ok(report: RunReport) -> RunReport:
    assert report.status == "ok", (report.error, report.failures)
    return report


def cursor(repo: Repository, origin: str = BASE) -> str | None:
    with repo.read() as session:
        state = repo.fetch_state(session, f"{origin}/bill/117")
    return state.lastmod if state else None


ONE_BILL = ["bill/117", "bill/117/hr/21", "bill/117/hr/21/actions", "bill/117/hr/21/subjects",
            "bill/117/hr/21/summaries", "bill/117/hr/21/text", "bill/117/hr/21/titles"]


def test_first_poll_reads_the_list_then_the_changed_bill_and_its_parts(
    pipeline: Pipeline, repo: Repository, upstream: FakeCongress
) -> None:
    report = ok(pipeline.poll("us-congress"))
    assert (report.discovered, report.inserted, report.requests) == (1, 1, 7)
    assert upstream.paths() == ONE_BILL
    list_query = upstream.calls[0][1]
    assert list_query == {"api_key": KEY, "format": "json", "sort": "updateDate desc",
                          "limit": "250", "offset": "0"}
    with repo.read() as session:
        bill = repo.get_bill(session, BillKey("us", "117", "HR 21"))
    assert bill is not None
    assert bill.stage is Stage.PASSED_ORIGIN
    assert len(bill.actions) == 8
    assert cursor(repo) == "2022-03-25T01:16:59Z"
    with repo.engine.connect() as connection:
        stored = str(connection.execute(sa.text("SELECT * FROM fetch_state")).all())
    assert KEY not in stored
    assert f"{BASE}/bill/117/hr/21" in stored


def test_a_quiet_poll_reads_the_list_only(
    pipeline: Pipeline, repo: Repository, upstream: FakeCongress
) -> None:
    ok(pipeline.poll("us-congress"))
    upstream.calls.clear()
    quiet = ok(pipeline.poll("us-congress"))
    assert (quiet.discovered, quiet.requests) == (0, 1)
    assert upstream.paths() == ["bill/117"]
    assert upstream.calls[0][1]["fromDateTime"] == "2022-03-25T00:16:59Z"  # an hour of overlap


def test_a_new_latest_action_fetches_the_bill_again(
    pipeline: Pipeline, repo: Repository, upstream: FakeCongress
) -> None:
    ok(pipeline.poll("us-congress"))
    upstream.calls.clear()
    upstream.listed = [hr21_listed(updateDate="2022-04-01T08:00:00Z",
                                   updateDateIncludingText="2022-04-01T08:00:00Z", latestAction={
        "actionDate": "2022-03-31", "text": "Committee on Homeland Security. Hearings held."})]
    again = ok(pipeline.poll("us-congress"))
    assert upstream.paths() == ONE_BILL
    assert again.fetched == 1
    assert cursor(repo) == "2022-04-01T08:00:00Z"


def test_items_older_than_the_cursor_end_the_list_even_unfiltered(
    pipeline: Pipeline, repo: Repository, upstream: FakeCongress
) -> None:
    ok(pipeline.poll("us-congress"))
    upstream.honour_from = False
    upstream.listed.append(HR22_LISTED | {"updateDate": "2021-06-01T00:00:00Z"})
    upstream.calls.clear()
    ok(pipeline.poll("us-congress"))
    assert upstream.paths() == ["bill/117"]


def test_actions_on_two_pages_are_read_whole(
    pipeline: Pipeline, repo: Repository, upstream: FakeCongress
) -> None:
    data = json.loads(recorded("bill_117_hr_21_actions.txt"))
    first, second = dict(data), dict(data)
    first["actions"], second["actions"] = data["actions"][:6], data["actions"][6:]
    first["pagination"] = {"count": 10, "next": f"{REAL}/bill/117/hr/21/actions?offset=250"}
    upstream.answers["bill/117/hr/21/actions"] = {
        "0": json.dumps(first).encode(), "250": json.dumps(second).encode()}
    ok(pipeline.poll("us-congress"))
    offsets = [q["offset"] for path, q in upstream.calls if path == "bill/117/hr/21/actions"]
    assert offsets == ["0", "250"]
    with repo.read() as session:
        bill = repo.get_bill(session, BillKey("us", "117", "HR 21"))
    assert bill is not None and len(bill.actions) == 8


def test_parts_without_entries_are_not_requested(
    pipeline: Pipeline, repo: Repository, upstream: FakeCongress
) -> None:
    upstream.listed = [HR22_LISTED]
    report = ok(pipeline.poll("us-congress"))
    assert upstream.paths() == ["bill/117", "bill/117/hr/22"]
    assert report.inserted == 1


def test_a_poll_fetches_at_most_its_cap_and_the_cursor_waits(
    pipeline: Pipeline, repo: Repository, upstream: FakeCongress,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(us_congress, "MAX_BILLS_PER_POLL", 1)
    upstream.listed.append(HR22_LISTED)
    first = ok(pipeline.poll("us-congress"))
    assert (first.discovered, first.inserted) == (1, 1)
    assert cursor(repo) is None
    upstream.calls.clear()
    second = ok(pipeline.poll("us-congress"))
    assert (second.discovered, second.inserted) == (1, 1)
    assert upstream.paths() == ONE_BILL
    assert cursor(repo) == "2022-03-26T10:00:00Z"


def test_a_failing_part_fails_the_bill_and_keeps_the_cursor(
    pipeline: Pipeline, repo: Repository, upstream: FakeCongress
) -> None:
    upstream.answers["bill/117/hr/21/summaries"] = 500
    first = pipeline.poll("us-congress")
    assert first.status == "partial"
    (failure,) = first.failures
    assert failure.document == f"{BASE}/bill/117/hr/21"
    assert failure.error.startswith(
        f"500 Internal Server Error from {BASE}/bill/117/hr/21/summaries")
    assert cursor(repo) is None
    upstream.answers["bill/117/hr/21/summaries"] = recorded("bill_117_hr_21_summaries.txt")
    retry = ok(pipeline.poll("us-congress"))
    assert retry.inserted == 1
    assert cursor(repo) == "2022-03-25T01:16:59Z"


# -- the source alone (no database) -------------------------------------------------------------


class NoState:
    def get(self, url: str) -> None:
        return None

    def lastmods(self, *, prefix: str) -> dict[str, str]:
        return {}

    def body(self, url: str) -> None:
        return None


def direct(
    *, base_url: str | None = BASE, environ: dict[str, str] | None = None,
    http: HttpClient | None = None,
) -> UsCongress:
    settings = SourceSettings(name="us-congress", base_url=base_url, sessions=("117",),
                              key_env=("CONGRESS_API_KEY", "DATA_GOV_API_KEY"))
    client = http or HttpClient(user_agent="test", min_interval=0, retries=0)
    return UsCongress(SourceContext(settings=settings, http=client, state=NoState(),
                                    environ={"CONGRESS_API_KEY": KEY} if environ is None
                                    else environ))


def poll_once(source: UsCongress) -> int:
    """discover and fetch every ref, as the pipeline would; the number of bills fetched."""
    refs = [item for item in source.discover(since=None) if isinstance(item, BillRef)]
    for ref in refs:
        source.parse(source.fetch(ref))
    return len(refs)


def test_without_a_key_the_poll_fails_naming_both_variables(upstream: FakeCongress) -> None:
    with pytest.raises(SourceError) as caught:
        poll_once(direct(environ={}))
    assert str(caught.value) == ("us-congress: disabled: no API key; set CONGRESS_API_KEY or "
                                 "DATA_GOV_API_KEY")
    assert upstream.calls == []


def test_the_data_gov_key_serves_as_well(upstream: FakeCongress) -> None:
    assert poll_once(direct(environ={"DATA_GOV_API_KEY": "dg-key"})) == 1
    assert {query["api_key"] for _, query in upstream.calls} == {"dg-key"}


class PaceRecorder:
    """A clock that only moves when the client sleeps, and the sleeps it was asked for."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

    def client(self) -> HttpClient:
        return HttpClient(user_agent="test", min_interval=0, retries=0, sleep=self.sleep,
                          clock=self.clock)


def test_the_real_host_is_polled_at_most_once_per_0_75_seconds() -> None:
    pace = PaceRecorder()
    fake = FakeCongress(REAL)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.serve(rsps)
        assert poll_once(direct(base_url=None, http=pace.client())) == 1
    assert fake.paths() == ONE_BILL
    assert pace.sleeps == [0.75] * 6


def test_a_mirror_is_paced_by_the_http_default_only(upstream: FakeCongress) -> None:
    pace = PaceRecorder()
    assert poll_once(direct(http=pace.client())) == 1
    assert pace.sleeps == []
