"""legiscan polled through the pipeline from a loopback LegiScan (``responses``): the hash
cursor, the quiet poll of one request, per-bill failures, the monthly budget kept in the
database, the key kept out of stored state and logs, and one bill, one key.

The masterlist served is the project-written ``tests/fixtures/legiscan`` one (no real sample
exists); the bills are the real recorded bill objects, given a live answer's ``status``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
import sqlalchemy as sa
from requests import PreparedRequest

from scrapers.legiscan import Legiscan
from tests.builders import action, record
from tests.cli_helpers import run_cli
from tests.conftest import PROJECT_FIXTURES, REPO, shared
from tracker.errors import FetchError, ParseError, SourceError
from tracker.http import HttpClient
from tracker.ledger import DatabaseLedger
from tracker.models import ActionClass, BillKey, Stage
from tracker.normalize import normalize
from tracker.pipeline import Pipeline, RunReport
from tracker.records import BillRef
from tracker.settings import Settings, SourceSettings
from tracker.source import QueryUsage, SourceContext
from tracker.storage.repository import EventFilter, Repository

BASE = "http://legiscan.test"
KEY = "LsTestKey-0123456789abcdef"
SESSION = "122"
BILL_IDS = {"230084": "HB1.json", "230085": "HB2.json", "230086": "HB3.json"}
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def answer(payload: dict[str, Any]) -> bytes:
    return json.dumps({"status": "OK", **payload}).encode()


class FakeLegiscan:
    """LegiScan's one endpoint: getMasterListRaw by session id or state, getBill by id."""

    def __init__(self) -> None:
        masterlist = json.loads((PROJECT_FIXTURES / "legiscan" / "getMasterListRaw-122.json")
                                .read_bytes())
        self.masterlist: dict[str, Any] = masterlist
        self.bills: dict[str, bytes] = {
            bill_id: answer(json.loads(shared("legiscan-api", "bill", name).read_bytes()))
            for bill_id, name in BILL_IDS.items()
        }
        self.calls: list[dict[str, str]] = []
        self.on_masterlist: list[Any] = []
        self.failing: dict[str, int] = {}  # bill id -> the HTTP status it answers with

    def serve(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.GET, f"{BASE}/", callback=self._answer)

    def _answer(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        query = dict(parse_qsl(urlsplit(request.url or "").query))
        self.calls.append(query)
        if query.get("key") != KEY:
            return 200, {}, b'{"status": "ERROR", "alert": {"message": "Invalid API key"}}'
        if query["op"] == "getMasterListRaw":
            for hook in self.on_masterlist:
                hook()
            if query.get("id") == SESSION or query.get("state") == "AK":
                return 200, {}, json.dumps(self.masterlist).encode()
            return 200, {}, (PROJECT_FIXTURES / "legiscan" / "error-unknown-session.json"
                             ).read_bytes()
        if query["id"] in self.failing:
            return self.failing[query["id"]], {}, b"busy"
        return 200, {}, self.bills[query["id"]]

    def ops(self) -> list[str]:
        return [f"{c['op']}:{c.get('id') or c.get('state')}" for c in self.calls]

    def change(self, bill_id: str, *, new_hash: str, extra_history: dict[str, Any]) -> None:
        slot = next(k for k, v in self.masterlist["masterlist"].items()
                    if k != "session" and str(v["bill_id"]) == bill_id)
        self.masterlist["masterlist"][slot]["change_hash"] = new_hash
        data = json.loads(self.bills[bill_id])
        data["bill"]["history"].append(extra_history)
        data["bill"]["change_hash"] = new_hash
        self.bills[bill_id] = json.dumps(data).encode()


@pytest.fixture
def upstream() -> Iterator[FakeLegiscan]:
    fake = FakeLegiscan()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.serve(rsps)
        yield fake


def make_pipeline(
    repo: Repository, tmp_path: Path, *, environ: dict[str, str] | None = None,
    sessions: tuple[str, ...] = (SESSION,), monthly_queries: int | None = None,
    clock: Clock | None = None,
) -> Pipeline:
    settings = Settings(
        config_dir=tmp_path, database_url="",
        sources={"legiscan": SourceSettings(
            name="legiscan", enabled=True, base_url=BASE, sessions=sessions,
            key_env=("LEGISCAN_API_KEY",), lead=False, interval=timedelta(hours=4),
            monthly_queries=monthly_queries,
        )},
        environ={"LEGISCAN_API_KEY": KEY} if environ is None else environ,
    )  # fmt: skip
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    return Pipeline(settings=settings, repo=repo, http=http, registry={"legiscan": Legiscan},
                    clock=clock or Clock())


@pytest.fixture
def pipeline(repo: Repository, tmp_path: Path) -> Pipeline:
    return make_pipeline(repo, tmp_path)


def ledger(repo: Repository, clock: Clock | None = None) -> DatabaseLedger:
    return DatabaseLedger(repo, source="legiscan", clock=clock or Clock())


def stages(repo: Repository) -> dict[str, Stage]:
    with repo.read() as session:
        found = {}
        for name in ("HB 1", "HB 2", "HB 3"):
            bill = repo.get_bill(session, BillKey("ak", "2011", name))
            if bill is not None:
                found[str(bill.key)] = bill.stage
        return found


def stored_text(repo: Repository) -> str:
    """Everything the polls stored about fetching and runs, as one text."""
    with repo.engine.connect() as connection:
        rows = [*connection.execute(sa.text("SELECT * FROM fetch_state")),
                *connection.execute(sa.text("SELECT * FROM source_runs"))]
    return "\n".join(str(tuple(r)) for r in rows)


def ok(report: RunReport) -> RunReport:
    assert report.status == "ok", (report.error, report.failures)
    return report


# ----------------------------------------------------------------------------------------------


def test_first_poll_stores_the_session_and_a_quiet_poll_costs_one_request(
    pipeline: Pipeline, repo: Repository, upstream: FakeLegiscan
) -> None:
    first = ok(pipeline.poll("legiscan"))
    assert (first.discovered, first.inserted, first.requests) == (3, 3, 4)
    assert upstream.ops() == ["getMasterListRaw:122", "getBill:230084", "getBill:230085",
                              "getBill:230086"]
    assert stages(repo) == {"ak/2011/HB 1": Stage.PASSED_ORIGIN, "ak/2011/HB 2": Stage.REPORTED,
                            "ak/2011/HB 3": Stage.PASSED_ORIGIN}
    with repo.read() as session:
        cursor = repo.lastmods(session, prefix=f"{BASE}/")
    assert cursor == {
        f"{BASE}/?op=getBill&id=230084": "38558907f12c02a238b1cd43d2a37393",
        f"{BASE}/?op=getBill&id=230085": "9623e9d81c72849726968199b15f7894",
        f"{BASE}/?op=getBill&id=230086": "f29fef5ddcea1b65cee12357ac828383",
    }

    upstream.calls.clear()
    quiet = ok(pipeline.poll("legiscan"))
    assert (quiet.discovered, quiet.fetched, quiet.requests) == (0, 0, 1)
    assert upstream.ops() == ["getMasterListRaw:122"]
    assert ledger(repo).usage().used == 5


def test_only_the_bill_whose_hash_moved_is_fetched(
    pipeline: Pipeline, repo: Repository, upstream: FakeLegiscan
) -> None:
    ok(pipeline.poll("legiscan"))
    upstream.calls.clear()
    upstream.change("230085", new_hash="0" * 32, extra_history={
        "date": "2012-03-05", "action": "FIN RPT CS(STA) 4DP 3NR", "chamber": "",
        "chamber_id": 0, "importance": 1})  # fmt: skip
    second = ok(pipeline.poll("legiscan"))
    assert upstream.ops() == ["getMasterListRaw:122", "getBill:230085"]
    assert (second.fetched, second.updated, second.noop) == (1, 1, 0)
    with repo.read() as session:
        kinds = [(e.bill, e.kind, e.baseline) for e in repo.events(session, EventFilter())
                 if not e.baseline]
    assert kinds == [("ak/2011/HB 2", "new-action", False)]


def test_a_failing_getbill_is_a_per_bill_failure_fetched_again_next_poll(
    pipeline: Pipeline, repo: Repository, upstream: FakeLegiscan
) -> None:
    good = upstream.bills["230086"]
    upstream.bills["230086"] = b'{"status": "ERROR", "alert": {"message": "Bill not found"}}'
    first = pipeline.poll("legiscan")
    assert (first.status, first.inserted) == ("partial", 2)
    (failure,) = first.failures
    assert failure.document == f"{BASE}/?op=getBill&id=230086"
    assert failure.error == f"{BASE}/?op=getBill&id=230086: LegiScan answered ERROR: Bill not found"
    upstream.bills["230086"] = good
    upstream.calls.clear()
    retry = ok(pipeline.poll("legiscan"))
    assert upstream.ops() == ["getMasterListRaw:122", "getBill:230086"]
    assert retry.inserted == 1
    assert len(stages(repo)) == 3


def test_the_budget_stops_the_poll_before_any_request(
    repo: Repository, tmp_path: Path, upstream: FakeLegiscan
) -> None:
    ledger(repo).spend(29_900)
    report = make_pipeline(repo, tmp_path).poll("legiscan")
    assert report.status == "failed"
    assert report.error == ("legiscan: monthly query budget reached (29,900 of 30,000 used); "
                            "next poll after 2027-01-01")
    assert upstream.calls == []


def test_a_configured_quota_and_a_new_month(
    repo: Repository, tmp_path: Path, upstream: FakeLegiscan
) -> None:
    clock = Clock()
    ledger(repo, clock).spend(900)
    refused = make_pipeline(repo, tmp_path, monthly_queries=1_000, clock=clock).poll("legiscan")
    assert refused.error == ("legiscan: monthly query budget reached (900 of 1,000 used); "
                             "next poll after 2027-01-01")
    clock.now = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)  # a new month, a new count
    ok(make_pipeline(repo, tmp_path, monthly_queries=1_000, clock=clock).poll("legiscan"))
    assert ledger(repo, clock).usage().used == 4


def test_another_process_spending_the_key_stops_the_poll_between_bills(
    pipeline: Pipeline, repo: Repository, upstream: FakeLegiscan
) -> None:
    other = ledger(repo)
    upstream.on_masterlist.append(lambda: other.spend(29_900))
    report = pipeline.poll("legiscan")
    assert report.status == "failed"
    assert report.error == ("legiscan: monthly query budget reached (29,901 of 30,000 used); "
                            "next poll after 2027-01-01")
    assert upstream.ops() == ["getMasterListRaw:122"]
    assert report.inserted == 0


def test_each_poll_spends_only_its_share_of_what_is_left(
    repo: Repository, tmp_path: Path, upstream: FakeLegiscan
) -> None:
    # 400 queries left (500 less the margin of 100) over the 184 four-hour polls left in
    # December: 3 a poll, one of them the masterlist.
    clock = Clock()
    first = ok(make_pipeline(repo, tmp_path, monthly_queries=500, clock=clock).poll("legiscan"))
    assert (first.inserted, first.requests) == (2, 3)
    upstream.calls.clear()
    second = ok(make_pipeline(repo, tmp_path, monthly_queries=500, clock=clock).poll("legiscan"))
    assert upstream.ops() == ["getMasterListRaw:122", "getBill:230086"]
    assert second.inserted == 1
    assert len(stages(repo)) == 3


def test_a_keyless_poll_fails_with_the_variable_to_set(
    repo: Repository, tmp_path: Path, upstream: FakeLegiscan
) -> None:
    report = make_pipeline(repo, tmp_path, environ={}).poll("legiscan")
    assert report.status == "failed"
    assert report.error == "legiscan: disabled: no API key; set LEGISCAN_API_KEY"
    assert upstream.calls == []


def test_the_key_is_never_stored_or_logged(
    pipeline: Pipeline, repo: Repository, upstream: FakeLegiscan,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream.bills["230086"] = b"not json"
    with caplog.at_level(logging.DEBUG):
        report = pipeline.poll("legiscan")
    assert report.status == "partial"
    assert all(call["key"] == KEY for call in upstream.calls), "the key did reach LegiScan"
    assert KEY not in caplog.text
    assert KEY not in stored_text(repo)
    assert KEY not in report.summary_line()


# -- the source alone (no database): a ledger and fetch state in memory -----------------------


class MemoryLedger:
    def __init__(self) -> None:
        self.used = 0

    def usage(self) -> QueryUsage:
        return QueryUsage(month=date(2026, 12, 1), used=self.used, as_of=START)

    def spend(self, requests: int) -> QueryUsage:
        self.used += requests
        return self.usage()


class NoState:
    def get(self, url: str) -> None:
        return None

    def lastmods(self, *, prefix: str) -> dict[str, str]:
        return {}

    def body(self, url: str) -> None:
        return None


def source(
    *, sessions: tuple[str, ...] = (SESSION,), key: str = KEY, retries: int = 0
) -> Legiscan:
    settings = SourceSettings(name="legiscan", base_url=BASE, sessions=sessions,
                              key_env=("LEGISCAN_API_KEY",))
    http = HttpClient(user_agent="test", min_interval=0, retries=retries, backoff_factor=0,
                      sleep=lambda s: None)
    return Legiscan(SourceContext(settings=settings, http=http, state=NoState(),
                                  environ={"LEGISCAN_API_KEY": key}, ledger=MemoryLedger()))


def test_a_masterlist_error_fails_the_poll_naming_it(upstream: FakeLegiscan) -> None:
    with pytest.raises(ParseError) as caught:
        list(source(sessions=("999",)).discover(since=None))
    assert str(caught.value) == (f"{BASE}/?op=getMasterListRaw&id=999: LegiScan answered "
                                 "ERROR: Unknown session id")


def test_a_state_code_polls_its_current_session(upstream: FakeLegiscan) -> None:
    refs = list(source(sessions=("ak",)).discover(since=None))
    assert upstream.ops() == ["getMasterListRaw:AK"]
    assert [(r.url, r.session, r.hint) for r in refs] == [
        (f"{BASE}/?op=getBill&id=230084", SESSION, "HB1"),
        (f"{BASE}/?op=getBill&id=230085", SESSION, "HB2"),
        (f"{BASE}/?op=getBill&id=230086", SESSION, "HB3"),
    ]


def test_a_session_entry_of_neither_kind_is_refused(upstream: FakeLegiscan) -> None:
    with pytest.raises(SourceError) as caught:
        list(source(sessions=("AK:2011",)).discover(since=None))
    assert str(caught.value) == ("legiscan: sessions: 'AK:2011' is neither a LegiScan session id "
                                 "(e.g. \"2172\") nor a state code (e.g. \"TX\")")
    assert upstream.calls == []


def test_a_key_with_control_characters_is_refused_without_echoing_it(
    upstream: FakeLegiscan,
) -> None:
    with pytest.raises(SourceError) as caught:
        list(source(key="ab\r\nX-Evil: 1").discover(since=None))
    assert str(caught.value) == ("legiscan: the API key in LEGISCAN_API_KEY holds spaces or "
                                 "control characters")
    assert upstream.calls == []


def test_every_request_is_counted_in_the_ledger(upstream: FakeLegiscan) -> None:
    legiscan = source()
    refs = [r for r in legiscan.discover(since=None) if isinstance(r, BillRef)]
    for ref in refs:
        legiscan.fetch(ref)
    assert legiscan.context.ledger is not None
    assert legiscan.context.ledger.usage().used == 4 == len(upstream.calls)


def test_a_failed_request_is_counted_with_its_retries(upstream: FakeLegiscan) -> None:
    upstream.failing["230084"] = 503
    legiscan = source(retries=2)
    ref = next(r for r in legiscan.discover(since=None) if isinstance(r, BillRef))
    with pytest.raises(FetchError, match=r"^503 Service Unavailable from http://legiscan\.test/ "
                                         r"after 2 retries$"):
        legiscan.fetch(ref)
    assert legiscan.context.ledger is not None
    assert legiscan.context.ledger.usage().used == 1 + 3 == len(upstream.calls)


def test_a_bill_stored_by_another_source_is_left_to_it(
    pipeline: Pipeline, repo: Repository, upstream: FakeLegiscan
) -> None:
    """One bill, one key: legiscan (lead = false) only fills gaps."""
    theirs = normalize(record(
        "HB 3", action("2011-01-18", "Prefiled", ActionClass.FILING),
        title="Requirements for driver's licenses (as the direct source words it)",
        jurisdiction="ak", session="2011", source="va-lis",
    ))  # fmt: skip
    with repo.write() as session:
        repo.upsert_bill(session, theirs, baseline=True, run_id=None, now=START)
    report = ok(pipeline.poll("legiscan"))
    assert (report.inserted, report.skipped) == (2, 1)
    with repo.read() as session:
        kept = repo.get_bill(session, BillKey("ak", "2011", "HB 3"))
        hb3_events = [e for e in repo.events(session, EventFilter()) if e.bill == "ak/2011/HB 3"]
    assert kept is not None
    assert (kept.source, kept.title, kept.stage) == (
        "va-lis", theirs.title, Stage.INTRODUCED)
    assert len(hb3_events) == 1  # its own new-bill event only
    upstream.calls.clear()
    ok(pipeline.poll("legiscan"))
    assert upstream.ops() == ["getMasterListRaw:122"], "a skipped bill's hash is kept too"


# ----------------------------------------------------------------------------------------------
# The ledger itself
# ----------------------------------------------------------------------------------------------


def test_the_ledger_counts_per_source_and_month_across_instances(repo: Repository) -> None:
    clock = Clock()
    one, two = ledger(repo, clock), ledger(repo, clock)
    other = DatabaseLedger(repo, source="openstates", clock=clock)
    assert one.usage().used == 0
    assert one.spend(3).used == 3
    assert two.spend(2).used == 5, "a second process adds to the same count"
    other.spend(7)
    usage = one.usage()
    assert (usage.used, usage.month.isoformat(), usage.next_month.isoformat()) == (
        5, "2026-12-01", "2027-01-01")
    clock.now = datetime(2027, 1, 31, 23, 0, tzinfo=UTC)
    assert one.usage().used == 0
    assert one.spend(1).next_month.isoformat() == "2027-02-01"
    with repo.engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT source, month, used FROM api_budget ORDER BY source, month")).all()
    assert [tuple(r) for r in rows] == [
        ("legiscan", "2026-12", 5), ("legiscan", "2027-01", 1), ("openstates", "2026-12", 7)]


# ----------------------------------------------------------------------------------------------
# tracker sources, with the shipped configuration
# ----------------------------------------------------------------------------------------------


def test_tracker_sources_says_which_key_each_keyed_source_lacks(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRACKER_CONFIG", str(REPO / "config"))
    monkeypatch.setenv("TRACKER_DATABASE_URL", database_url)
    for name in ("LEGISCAN_API_KEY", "OPENSTATES_API_KEY", "CONGRESS_API_KEY",
                 "DATA_GOV_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_GOV_API_KEY", "set-but-never-shown")
    outcome = run_cli(capsys, "sources", "-f", "json")
    assert outcome.code == 0, outcome.err
    rows = {row["name"]: row for row in map(json.loads, outcome.lines())}
    assert {name: (rows[name]["enabled"], rows[name]["note"])
            for name in ("legiscan", "openstates", "us-congress")} == {
        "legiscan": (False, "disabled: no API key; set LEGISCAN_API_KEY"),
        "openstates": (False, "disabled: no API key; set OPENSTATES_API_KEY"),
        "us-congress": (False, "key set"),  # and still off until sources.toml enables it
    }  # fmt: skip
    assert "set-but-never-shown" not in outcome.out
